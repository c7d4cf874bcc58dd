//! Suggestions: what a matching run proposes to a member, where each is in its review, the member's reaction, and
//! the matching runs that make them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::api_enum;

api_enum!(
    /// What a suggestion proposes to the member it is for: an open project or call to join (`project`), another
    /// member to work with (`partner`), a member who could join a project the member leads (`candidate`).
    SuggestionKind { Project => "project", Partner => "partner", Candidate => "candidate" }
);

api_enum!(
    /// Where a suggestion is in its review.
    SuggestionStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Delivered => "delivered",
        Expired => "expired",
    }
);

api_enum!(
    /// A member's answer to a suggestion.
    Reaction { Interested => "interested", NotRelevant => "not_relevant", Contacted => "contacted" }
);

api_enum!(
    /// Why a suggestion is not relevant.
    ReactionReason {
        WrongSkills => "wrong_skills",
        WrongSector => "wrong_sector",
        WrongScope => "wrong_scope",
        AlreadyKnown => "already_known",
        NoCapacity => "no_capacity",
        Other => "other",
    }
);

impl ReactionReason {
    /// Whether the reason objects to what the suggestion was about (so that candidates sharing it score lower),
    /// rather than to the timing or to that one pair.
    pub fn objects_to_content(self) -> bool {
        matches!(self, Self::WrongSkills | Self::WrongSector | Self::WrongScope | Self::Other)
    }
}

impl SuggestionStatus {
    /// What a member (or its portal) may see.
    pub fn visible_to_member(self) -> bool {
        matches!(self, Self::Approved | Self::Delivered)
    }
}

/// How long a member may take a reaction back.
pub const REACTION_UNDO_DAYS: i64 = 14;

api_enum!(
    /// What came of a suggestion: the two met, applied together to a call, were funded, or nothing followed.
    Outcome { Met => "met", AppliedTogether => "applied_together", Funded => "funded", NoFollowUp => "no_follow_up" }
);

impl Outcome {
    /// Whether the outcome names a call (applying together, being funded).
    pub fn names_a_call(self) -> bool {
        matches!(self, Self::AppliedTogether | Self::Funded)
    }
}

/// How long after a `contacted` reaction a digest asks what came of it.
pub const OUTCOME_QUESTION_DAYS: i64 = 28;

/// What came of a suggestion, as someone said it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRecord {
    pub id: String,
    pub suggestion: String,
    pub outcome: Outcome,
    pub date: chrono::NaiveDate,
    /// The call applied to or funded by, as given.
    pub call: Option<String>,
    /// `member:<id>`, `user:<id>`, `client:<id>`.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

api_enum!(
    /// Where a matching run is: waiting for its first member, going through the members (also while resumed after a
    /// hand-over), done, or stopped by an error.
    RunStatus { Queued => "queued", Running => "running", Done => "done", Failed => "failed" }
);

/// A suggestion as stored: what it proposes, to whom, how it scored (as it was), and where it is in its review.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub id: String,
    pub kind: SuggestionKind,
    /// The member it is for.
    pub member: Uuid,
    /// The project, the other member, or `{project}/{member}` for a candidate: what makes the pair.
    pub target: String,
    pub project: Option<Uuid>,
    pub partner: Option<Uuid>,
    pub run_id: String,
    pub score: f64,
    /// The explanation as it was when the run made the suggestion (JSON).
    pub explanation: String,
    pub rationale: String,
    pub status: SuggestionStatus,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reaction: Option<Reaction>,
    pub reaction_reason: Option<ReactionReason>,
    pub reaction_comment: Option<String>,
    pub reacted_at: Option<DateTime<Utc>>,
    pub digest_id: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Suggestion {
    pub fn etag(&self) -> String {
        crate::domain::member::etag_for(self.version)
    }
}

/// A staff decision on a pending suggestion: approve, or reject (with a reason); either may rewrite the rationale.
#[derive(Debug, Clone)]
pub struct Decision {
    pub approve: bool,
    pub reason: Option<String>,
    pub rationale: Option<String>,
}

/// Progress of a run so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub members_total: i32,
    pub members_done: i32,
    pub created: i32,
    /// The pair already had a live suggestion.
    pub kept: i32,
    /// The pair was refused recently.
    pub held_back: i32,
}

/// A matching run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchingRun {
    pub id: String,
    pub status: RunStatus,
    pub requested_by: String,
    pub counts: Counts,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
