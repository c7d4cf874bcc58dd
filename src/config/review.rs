//! What a matching run keeps as suggestions for staff to review.

use super::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct ReviewSettings {
    /// Lowest score kept (0–100).
    pub min_score: f64,
    /// At most this many suggestions of each kind per member and run.
    pub top_n: usize,
    /// A rejected or not-relevant pair may come back after this many weeks…
    pub resuggest_after_weeks: i64,
    /// …or sooner if its score rose by at least this many points.
    pub resuggest_score_rise: f64,
    /// Points taken off a candidate for each concept it shares with a suggestion the member marked not relevant.
    pub feedback_penalty: f64,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        Self {
            min_score: 40.0,
            top_n: 5,
            resuggest_after_weeks: 26,
            resuggest_score_rise: 15.0,
            feedback_penalty: 10.0,
        }
    }
}

impl ReviewSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            min_score: env.number("MATCHMAKER_SUGGEST_MIN_SCORE", d.min_score, 0.0, 100.0)?,
            top_n: env.number("MATCHMAKER_SUGGEST_TOP_N", d.top_n, 1, 100)?,
            resuggest_after_weeks: env.number("MATCHMAKER_RESUGGEST_AFTER_WEEKS", d.resuggest_after_weeks, 0, 520)?,
            resuggest_score_rise: env.number("MATCHMAKER_RESUGGEST_SCORE_RISE", d.resuggest_score_rise, 0.0, 100.0)?,
            feedback_penalty: env.number("MATCHMAKER_FEEDBACK_PENALTY", d.feedback_penalty, 0.0, 100.0)?,
        })
    }
}
