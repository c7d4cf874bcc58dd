//! Staff review of suggestions: the records a matching run makes, their lifecycle (pending → approved | rejected →
//! delivered, or expired), members' reactions, and every transition kept.

pub mod suggest;
pub mod view;

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
