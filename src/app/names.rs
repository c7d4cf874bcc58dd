//! The names of members and projects by id, for pages that list records about them (the terms a vocabulary edit
//! re-maps, the digests sent): one read for the whole list. An erased member or a deleted project has no name.

use std::collections::HashMap;

use uuid::Uuid;

use super::{AppError, Store};
use crate::db::{self, members, projects};

/// A member or a project, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Named {
    Member(Uuid),
    Project(Uuid),
}

/// The most names one call reads (a page lists fewer).
pub const MAX: usize = 1000;

/// The member's name or the project's title of each of `ids` that still exists (the first [`MAX`] distinct ones).
pub async fn names(store: &Store, ids: Vec<Named>) -> Result<HashMap<Named, String>, AppError> {
    let mut seen = std::collections::HashSet::new();
    let wanted: Vec<Named> = ids.into_iter().filter(|id| seen.insert(*id)).take(MAX).collect();
    db::run(&store.pool, move |conn| {
        let mut out = HashMap::new();
        for id in wanted {
            let name = match id {
                Named::Member(m) => members::find(conn, m)?.map(|m| m.profile.name),
                Named::Project(p) => projects::find(conn, p)?.map(|p| p.draft.title),
            };
            if let Some(name) = name {
                out.insert(id, name);
            }
        }
        Ok(out)
    })
    .await
}
