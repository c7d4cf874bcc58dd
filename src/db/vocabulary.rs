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
) -> QueryResult<()> {
    diesel::insert_into(vocabulary_labels::table)
        .values((
            vocabulary_labels::id.eq(Uuid::now_v7().to_string()),
            vocabulary_labels::concept.eq(concept),
            vocabulary_labels::lang.eq(lang.as_str()),
            vocabulary_labels::label.eq(label),
            vocabulary_labels::folded.eq(fold(label)),
            vocabulary_labels::created_by.eq(by),
            vocabulary_labels::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
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
