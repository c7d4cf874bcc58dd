//! Versions of what clients change concurrently (members, projects, suggestions): the entity tag of a version, and
//! the precondition a write names (`If-Match`).

/// The strong entity tag of a version.
pub fn etag_for(version: i64) -> String {
    format!("\"v{version}\"")
}

/// What an `If-Match` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current version.
    Any,
    /// One of these entity tags.
    Tags(Vec<String>),
}

impl Precondition {
    pub fn holds(&self, current_etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|t| t == current_etag),
        }
    }
}
