//! Staff edits of the vocabulary: synonyms added and concepts merged, applied on top of the shipped data.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::DbConnection;
use super::schema::{vocabulary_labels, vocabulary_merges};
use crate::domain::fold::fold;
use crate::matching::Vocabulary;
use crate::matching::vocabulary::Lang;

/// Whether staff have edited the vocabulary at all.
pub fn has_overlays(conn: &mut DbConnection) -> QueryResult<bool> {
    let labels: i64 = vocabulary_labels::table.count().get_result(conn)?;
    let merges: i64 = vocabulary_merges::table.count().get_result(conn)?;
    Ok(labels + merges > 0)
}

/// Apply every stored edit, oldest first.
pub fn apply_overlays(conn: &mut DbConnection, v: &mut Vocabulary) -> QueryResult<()> {
    let labels: Vec<(String, String, String)> = vocabulary_labels::table
        .order((vocabulary_labels::created_at.asc(), vocabulary_labels::id.asc()))
        .select((vocabulary_labels::concept, vocabulary_labels::lang, vocabulary_labels::label))
        .load(conn)?;
    let merges: Vec<(String, String)> = vocabulary_merges::table
        .order(vocabulary_merges::created_at.asc())
        .select((vocabulary_merges::from_concept, vocabulary_merges::into_concept))
        .load(conn)?;
    let labels: Vec<(String, Lang, String)> =
        labels.into_iter().filter_map(|(c, l, t)| Lang::parse(&l).map(|l| (c, l, t))).collect();
    v.apply_edits(&labels, &merges);
    Ok(())
}

pub fn insert_label(
    conn: &mut DbConnection,
    concept: &str,
    lang: Lang,
    label: &str,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<String> {
    let id = Uuid::now_v7().to_string();
    diesel::insert_into(vocabulary_labels::table)
        .values((
            vocabulary_labels::id.eq(&id),
            vocabulary_labels::concept.eq(concept),
            vocabulary_labels::lang.eq(lang.as_str()),
            vocabulary_labels::label.eq(label),
            vocabulary_labels::folded.eq(fold(label)),
            vocabulary_labels::created_by.eq(by),
            vocabulary_labels::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn insert_merge(conn: &mut DbConnection, from: &str, into: &str, by: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(vocabulary_merges::table)
        .values((
            vocabulary_merges::from_concept.eq(from),
            vocabulary_merges::into_concept.eq(into),
            vocabulary_merges::created_by.eq(by),
            vocabulary_merges::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whose a stored term is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    Member(String),
    Project(String),
}

/// A stored term of a member or a project, as the vocabulary sees it: where it is, what was typed, and how it maps.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTerm {
    pub holder: Holder,
    /// `offer`, `need`, `interest`; `skill`, `theme`.
    pub list: String,
    pub position: i32,
    pub text: String,
    pub concept: Option<String>,
    pub match_kind: String,
    pub similarity: Option<f64>,
}

type TermColumns = (String, String, i32, String, Option<String>, String, Option<f64>);

/// Every stored term of members and projects.
pub fn stored_terms(conn: &mut DbConnection) -> QueryResult<Vec<StoredTerm>> {
    use super::schema::{member_terms as m, project_terms as p};
    let members: Vec<TermColumns> = m::table
        .select((m::member_id, m::kind, m::position, m::term, m::concept, m::match_kind, m::similarity))
        .load(conn)?;
    let projects: Vec<TermColumns> = p::table
        .select((p::project_id, p::kind, p::position, p::term, p::concept, p::match_kind, p::similarity))
        .load(conn)?;
    let row = |holder: fn(String) -> Holder| {
        move |(id, list, position, text, concept, match_kind, similarity): TermColumns| StoredTerm {
            holder: holder(id),
            list,
            position,
            text,
            concept,
            match_kind,
            similarity,
        }
    };
    Ok(members.into_iter().map(row(Holder::Member)).chain(projects.into_iter().map(row(Holder::Project))).collect())
}

/// Store how a term maps now.
pub fn set_term(
    conn: &mut DbConnection,
    t: &StoredTerm,
    concept: Option<&str>,
    kind: &str,
    similarity: Option<f64>,
) -> QueryResult<()> {
    use super::schema::{member_terms as m, project_terms as p};
    match &t.holder {
        Holder::Member(id) => diesel::update(m::table.find((id, &t.list, t.position)))
            .set((m::concept.eq(concept), m::match_kind.eq(kind), m::similarity.eq(similarity)))
            .execute(conn)?,
        Holder::Project(id) => diesel::update(p::table.find((id, &t.list, t.position)))
            .set((p::concept.eq(concept), p::match_kind.eq(kind), p::similarity.eq(similarity)))
            .execute(conn)?,
    };
    Ok(())
}

/// A synonym staff added.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = vocabulary_labels)]
pub struct StaffLabel {
    pub id: String,
    pub concept: String,
    pub lang: String,
    pub label: String,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
}

/// A merge staff made.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = vocabulary_merges)]
pub struct StaffMerge {
    pub from_concept: String,
    pub into_concept: String,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
}

/// The synonyms staff added, oldest first.
pub fn staff_labels(conn: &mut DbConnection) -> QueryResult<Vec<StaffLabel>> {
    vocabulary_labels::table
        .order((vocabulary_labels::created_at.asc(), vocabulary_labels::id.asc()))
        .select(StaffLabel::as_select())
        .load(conn)
}

/// The merges staff made, oldest first.
pub fn staff_merges(conn: &mut DbConnection) -> QueryResult<Vec<StaffMerge>> {
    vocabulary_merges::table
        .order((vocabulary_merges::created_at.asc(), vocabulary_merges::from_concept.asc()))
        .select(StaffMerge::as_select())
        .load(conn)
}

/// Take a synonym back; the label removed, if there was one.
pub fn delete_label(conn: &mut DbConnection, id: &str) -> QueryResult<Option<StaffLabel>> {
    let found = vocabulary_labels::table.find(id).select(StaffLabel::as_select()).first(conn).optional()?;
    if found.is_some() {
        diesel::delete(vocabulary_labels::table.find(id)).execute(conn)?;
    }
    Ok(found)
}

/// Undo a merge; the merge undone, if there was one.
pub fn delete_merge(conn: &mut DbConnection, from: &str) -> QueryResult<Option<StaffMerge>> {
    let found = vocabulary_merges::table.find(from).select(StaffMerge::as_select()).first(conn).optional()?;
    if found.is_some() {
        diesel::delete(vocabulary_merges::table.find(from)).execute(conn)?;
    }
    Ok(found)
}
