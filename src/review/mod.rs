//! Staff review of suggestions: the records a matching run makes, their lifecycle (pending → approved | rejected →
//! delivered, or expired), members' reactions, and every transition kept.

pub mod suggest;
pub mod view;

pub use crate::domain::suggestion::{
    Counts, Decision, MatchingRun, REACTION_UNDO_DAYS, Reaction, ReactionReason, RunStatus, Suggestion, SuggestionKind,
    SuggestionStatus,
};
