//! The one source of "now". Production uses the system clock; tests freeze it.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Where the application asks for the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// Shared handle stored in the application state.
pub type SharedClock = Arc<dyn Clock>;

/// Truncate to whole microseconds: PostgreSQL keeps microseconds, so both backends return the same instant.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now())
    }
}

/// A clock that stands still until moved; for tests and reproducible runs.
#[derive(Debug)]
pub struct FrozenClock {
    at: Mutex<DateTime<Utc>>,
}

impl FrozenClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self { at: Mutex::new(to_micros(at)) }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.at.lock().unwrap_or_else(PoisonError::into_inner) = to_micros(at);
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut at = self.at.lock().unwrap_or_else(PoisonError::into_inner);
        *at += by;
    }
}

impl Clock for FrozenClock {
    fn now(&self) -> DateTime<Utc> {
        *self.at.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2024-10-15T08:00:00.1234567Z").unwrap().to_utc();
        let clock = FrozenClock::new(start);
        assert_eq!(clock.now().timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(clock.now(), clock.now());
        clock.advance(TimeDelta::seconds(30));
        assert_eq!(clock.now() - to_micros(start), TimeDelta::seconds(30));
    }
}
