//! Matching: score weights, the fuzzy threshold, how often other instances' changes are picked up.

use std::time::Duration;

use super::{ConfigError, Env};
use crate::matching::model::Weights;

#[derive(Debug, Clone)]
pub struct MatchSettings {
    pub weights: Weights,
    pub fuzzy_threshold: f64,
    pub poll_interval: Duration,
    /// Which imported calls are the cluster's.
    pub calls: crate::domain::project::CallFilter,
}

impl Default for MatchSettings {
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            fuzzy_threshold: crate::matching::vocabulary::DEFAULT_FUZZY_THRESHOLD,
            poll_interval: Duration::from_millis(1000),
            calls: crate::domain::project::CallFilter::default(),
        }
    }
}

impl MatchSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let weights = match env.text("MATCHMAKER_MATCH_WEIGHTS") {
            None => d.weights,
            Some(v) => serde_json::from_str(&v).map_err(|e| ConfigError::Bad {
                name: "MATCHMAKER_MATCH_WEIGHTS",
                message: format!("a JSON object such as {{\"skills\": 0.6, \"themes\": 0.2}}: {e}"),
            })?,
        };
        let poll_ms = u64::try_from(d.poll_interval.as_millis()).unwrap_or(u64::MAX);
        Ok(Self {
            weights,
            fuzzy_threshold: env.number("MATCHMAKER_FUZZY_THRESHOLD", d.fuzzy_threshold, 0.5, 1.0)?,
            poll_interval: Duration::from_millis(env.number("MATCHMAKER_INDEX_POLL_MS", poll_ms, 50, 600_000)?),
            calls: crate::domain::project::CallFilter {
                programmes: match env.text("MATCHMAKER_CALLS_LEFT_OUT_PROGRAMMES") {
                    None => d.calls.programmes,
                    Some(v) => codes("MATCHMAKER_CALLS_LEFT_OUT_PROGRAMMES", &v, "EDF,ISF")?,
                },
                action_types: match env.text("MATCHMAKER_CALLS_LEFT_OUT_ACTION_TYPES") {
                    None => d.calls.action_types,
                    Some(v) => codes("MATCHMAKER_CALLS_LEFT_OUT_ACTION_TYPES", &v, "HORIZON-COFUND,HORIZON-ERC")?,
                },
                unread: env.switch("MATCHMAKER_CALLS_LEAVE_OUT_UNREAD", d.calls.unread)?,
            },
        })
    }
}

/// A list of codes (`EDF, ISF`; `HORIZON-COFUND`: letters, digits and hyphens, separated by commas or spaces; empty
/// for none), upper-cased.
fn codes(name: &'static str, value: &str, example: &str) -> Result<Vec<String>, ConfigError> {
    let codes: Vec<String> =
        value.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()).map(str::to_uppercase).collect();
    match codes.iter().find(|p| !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')) {
        Some(bad) => Err(ConfigError::Bad {
            name,
            message: format!("codes such as {example} (letters, digits and hyphens), not `{bad}`"),
        }),
        None => Ok(codes),
    }
}
