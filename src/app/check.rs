//! `matchmaker check`: stored rows that today's rules refuse. Rules get stricter (an address the mailer can't send
//! to, a title with a line break, an oversized imported field); rows stored before keep working, and this finds them
//! so staff can fix them with an ordinary PATCH, which the report names the fields of.

use serde_json::json;

use crate::db::{DbConnection, members, projects};
use crate::domain::FieldError;
use crate::domain::parse::line;

/// One stored row that today's rules refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `member` or `project`.
    pub kind: &'static str,
    pub id: uuid::Uuid,
    /// The member's name or the project's title, shortened.
    pub name: String,
    pub problems: Vec<FieldError>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let problems: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.pointer.trim_start_matches('/').replace('/', "."), p.detail))
            .collect();
        write!(f, "{} {} ({}): {}", self.kind, self.id, self.name, problems.join("; "))
    }
}

/// A name safe to print on one line.
fn shown(text: &str) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(60).collect();
    if text.chars().count() > 60 { format!("{one_line}…") } else { one_line }
}

/// Longest `reference` an import keeps today.
const REFERENCE_MAX: usize = 200;

/// Every member and project that an empty PATCH would refuse (so editing it needs these fields fixed first), and
/// every project whose import reference today's import would refuse.
pub async fn stored_rows(store: &super::Store) -> Result<Vec<Finding>, super::AppError> {
    crate::db::run(&store.pool, |conn| findings(conn).map_err(super::AppError::from)).await
}

fn findings(conn: &mut DbConnection) -> Result<Vec<Finding>, crate::db::QueryError> {
    let mut findings = Vec::new();
    for m in members::all(conn)? {
        if let Err(problems) = m.profile.patched(&json!({})) {
            findings.push(Finding { kind: "member", id: m.id, name: shown(&m.profile.name), problems });
        }
    }
    for p in projects::all(conn)? {
        let mut problems = p.draft.patched(&json!({})).err().unwrap_or_default();
        if let Some(reference) = &p.reference
            && let Err(e) = line(&json!(reference), 1, REFERENCE_MAX)
        {
            problems.extend(e.into_iter().map(|e| FieldError::new("/reference", e.detail)));
        }
        if !problems.is_empty() {
            findings.push(Finding { kind: "project", id: p.id, name: shown(&p.draft.title), problems });
        }
    }
    Ok(findings)
}
