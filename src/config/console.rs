//! The staff console's sessions.

use super::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// A session not used for this many minutes ends.
    pub idle_minutes: i64,
    /// A session ends this many hours after sign-in, however busy.
    pub absolute_hours: i64,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self { idle_minutes: 30, absolute_hours: 10 }
    }
}

impl ConsoleSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            idle_minutes: env.number("MATCHMAKER_CONSOLE_IDLE_MINUTES", d.idle_minutes, 1, 24 * 60)?,
            absolute_hours: env.number("MATCHMAKER_CONSOLE_ABSOLUTE_HOURS", d.absolute_hours, 1, 7 * 24)?,
        })
    }
}
