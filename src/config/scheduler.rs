//! The in-process scheduler: when the weekly jobs and the daily purge fire, the leases that keep them to one
//! instance, and how long records are kept.

use std::fmt;
use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds};

use super::{ConfigError, Env};

/// A cron expression (5 fields, or 6 with seconds first), parsed once, with the text it was written as.
#[derive(Clone, PartialEq, Eq)]
pub struct Schedule {
    text: String,
    cron: Cron,
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Self, String> {
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(text)
            .map_err(|e| format!("`{text}` is not a cron expression (e.g. `0 8 * * MON`): {e}"))?;
        Ok(Self { text: text.to_owned(), cron })
    }

    pub fn cron(&self) -> &Cron {
        &self.cron
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({})", self.text)
    }
}

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    pub enabled: bool,
    /// When the weekly matching run and the weekly digest fire, read in `time_zone`.
    pub matching: Schedule,
    pub digest: Schedule,
    pub time_zone: chrono_tz::Tz,
    pub lease: Duration,
    pub heartbeat: Duration,
    /// How often an instance looks for due or abandoned work.
    pub tick: Duration,
    /// When the daily purge of records past their retention fires.
    pub retention: Schedule,
    /// How long each kind of record is kept.
    pub keep: Retention,
    /// When the daily calls sync fires (`MATCHMAKER_CALLS_SCHEDULE`); `None` (`off`): never.
    pub calls: Option<Schedule>,
}

/// How long records are kept before the daily purge removes them (or, for mail, their bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Audit entries (`MATCHMAKER_RETAIN_AUDIT_DAYS`).
    pub audit_days: i64,
    /// The rendered bodies of sent digests and messages (`MATCHMAKER_RETAIN_MAIL_DAYS`); the record that one was
    /// sent, when and to whom, stays.
    pub mail_days: i64,
    /// The change log instances follow (`MATCHMAKER_RETAIN_CHANGES_DAYS`); it keeps ids only.
    pub change_days: i64,
    /// Finished job periods (`MATCHMAKER_RETAIN_JOBS_DAYS`).
    pub job_days: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Self { audit_days: 365, mail_days: 90, change_days: 7, job_days: 90 }
    }
}

/// The shipped schedules: Thursdays and Mondays at 08:00.
const MATCHING_DEFAULT: &str = "0 8 * * THU";
const DIGEST_DEFAULT: &str = "0 8 * * MON";
/// The shipped purge: every day at 03:30.
const RETENTION_DEFAULT: &str = "30 3 * * *";
/// The shipped calls sync: every day at 05:00, before the working day and after the portal's night.
const CALLS_DEFAULT: &str = "0 5 * * *";

impl Default for SchedulerSettings {
    fn default() -> Self {
        let shipped = |text: &str| Schedule::parse(text).unwrap_or_else(|_| unreachable!("a shipped schedule parses"));
        Self {
            enabled: true,
            matching: shipped(MATCHING_DEFAULT),
            digest: shipped(DIGEST_DEFAULT),
            time_zone: chrono_tz::Europe::Luxembourg,
            lease: Duration::from_secs(120),
            heartbeat: Duration::from_secs(30),
            tick: Duration::from_secs(30),
            retention: shipped(RETENTION_DEFAULT),
            keep: Retention::default(),
            calls: Some(shipped(CALLS_DEFAULT)),
        }
    }
}

fn shipped_calls() -> Schedule {
    Schedule::parse(CALLS_DEFAULT).unwrap_or_else(|_| unreachable!("a shipped schedule parses"))
}

impl SchedulerSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let schedule = |name: &'static str, default: Schedule| match env.text(name) {
            None => Ok(default),
            Some(v) => Schedule::parse(v.trim()).map_err(|message| ConfigError::Bad { name, message }),
        };
        let time_zone = match env.text("MATCHMAKER_SCHEDULE_TZ") {
            None => d.time_zone,
            Some(v) => v.trim().parse().map_err(|_| ConfigError::Bad {
                name: "MATCHMAKER_SCHEDULE_TZ",
                message: format!("`{v}` is not an IANA time zone such as Europe/Luxembourg"),
            })?,
        };
        let enabled = env.switch("MATCHMAKER_SCHEDULER", true)?;
        let settings = Self {
            enabled,
            matching: schedule("MATCHMAKER_MATCHING_SCHEDULE", d.matching)?,
            digest: schedule("MATCHMAKER_DIGEST_SCHEDULE", d.digest)?,
            time_zone,
            lease: env.seconds("MATCHMAKER_JOB_LEASE_SECONDS", d.lease, 2, 86_400)?,
            heartbeat: env.seconds("MATCHMAKER_JOB_HEARTBEAT_SECONDS", d.heartbeat, 1, 3_600)?,
            tick: env.seconds("MATCHMAKER_SCHEDULER_TICK_SECONDS", d.tick, 1, 3_600)?,
            retention: schedule("MATCHMAKER_RETENTION_SCHEDULE", d.retention)?,
            calls: match env.text("MATCHMAKER_CALLS_SCHEDULE").as_deref().map(str::trim) {
                Some("off") => None,
                Some(_) => Some(schedule("MATCHMAKER_CALLS_SCHEDULE", shipped_calls())?),
                None => d.calls,
            },
            keep: Retention {
                audit_days: env.number("MATCHMAKER_RETAIN_AUDIT_DAYS", d.keep.audit_days, 1, 36_500)?,
                mail_days: env.number("MATCHMAKER_RETAIN_MAIL_DAYS", d.keep.mail_days, 1, 36_500)?,
                change_days: env.number("MATCHMAKER_RETAIN_CHANGES_DAYS", d.keep.change_days, 1, 36_500)?,
                job_days: env.number("MATCHMAKER_RETAIN_JOBS_DAYS", d.keep.job_days, 1, 36_500)?,
            },
        };
        if settings.heartbeat >= settings.lease {
            return Err(ConfigError::Bad {
                name: "MATCHMAKER_JOB_HEARTBEAT_SECONDS",
                message: "must be shorter than MATCHMAKER_JOB_LEASE_SECONDS, or leases lapse between heartbeats"
                    .to_owned(),
            });
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions() {
        assert!(Schedule::parse("0 8 * * MON").is_ok());
        assert!(Schedule::parse("* * * * * *").is_ok());
        assert!(Schedule::parse("every monday").is_err());
    }
}
