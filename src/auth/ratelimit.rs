//! Sliding-window limits on sign-in attempts, per client address and per account, kept in memory by each instance.
//! Behind a load balancer each instance counts on its own, so the effective limit is at most N times the setting.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// At most `limit` events per `window` for each key.
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    window: TimeDelta,
    events: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

/// Keys kept before old ones are swept.
const SWEEP_ABOVE: usize = 10_000;

impl RateLimiter {
    pub fn new(limit: u32, window: TimeDelta) -> Self {
        Self { limit: limit as usize, window, events: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` when `key` has used up its events in the window.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(queue) = events.get_mut(key) else { return Ok(()) };
        while queue.front().is_some_and(|t| *t + self.window <= now) {
            queue.pop_front();
        }
        if queue.len() < self.limit {
            return Ok(());
        }
        let oldest = queue.front().copied().unwrap_or(now);
        let wait = (oldest + self.window - now).num_seconds().max(1);
        Err(u64::try_from(wait).unwrap_or(1))
    }

    /// Count one event for `key`.
    pub fn record(&self, key: &str, now: DateTime<Utc>) {
        let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if events.len() > SWEEP_ABOVE {
            let window = self.window;
            events.retain(|_, q| q.back().is_some_and(|t| *t + window > now));
        }
        let queue = events.entry(key.to_owned()).or_default();
        queue.push_back(now);
        while queue.len() > self.limit.max(1) * 2 {
            queue.pop_front();
        }
    }

    /// Forget `key` (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_within_the_window_only() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().to_utc();
        let limiter = RateLimiter::new(2, TimeDelta::seconds(60));
        assert!(limiter.check("k", t0).is_ok());
        limiter.record("k", t0);
        limiter.record("k", t0 + TimeDelta::seconds(10));
        assert_eq!(limiter.check("k", t0 + TimeDelta::seconds(20)), Err(40));
        assert!(limiter.check("other", t0).is_ok());
        assert!(limiter.check("k", t0 + TimeDelta::seconds(60)).is_ok());
        limiter.clear("k");
        assert!(limiter.check("k", t0 + TimeDelta::seconds(20)).is_ok());
    }
}
