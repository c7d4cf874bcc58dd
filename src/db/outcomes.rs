//! What came of suggestions (each statement with its date and who made it), the digests' questions about them, and
//! the funnel staff read: how many suggestions were created, approved, delivered, answered, and what came of them.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{
    introductions, member_sectors, members, outcome_questions, projects, suggestion_outcomes, suggestions,
};
use super::suggestions::{SuggestionRow, record_event};
use super::{DbConnection, QueryError};
use crate::domain::introduction::IntroductionStatus;
use crate::domain::parse::ApiEnum;
use crate::domain::suggestion::{
    OUTCOME_QUESTION_DAYS, Outcome, OutcomeRecord, Reaction, Suggestion, SuggestionStatus,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = suggestion_outcomes)]
struct OutcomeRow {
    id: String,
    suggestion_id: String,
    outcome: String,
    occurred_on: NaiveDate,
    call_ref: Option<String>,
    recorded_by: String,
    recorded_at: NaiveDateTime,
}

impl TryFrom<OutcomeRow> for OutcomeRecord {
    type Error = QueryError;

    fn try_from(row: OutcomeRow) -> QueryResult<Self> {
        let outcome = Outcome::from_name(&row.outcome).ok_or_else(|| {
            QueryError::DeserializationError(format!("stored outcome `{}` is not valid", row.outcome).into())
        })?;
        Ok(Self {
            id: row.id,
            suggestion: row.suggestion_id,
            outcome,
            date: row.occurred_on,
            call: row.call_ref,
            recorded_by: row.recorded_by,
            recorded_at: row.recorded_at.and_utc(),
        })
    }
}

/// Record what came of a suggestion, in its history too (the caller checks who may say so).
pub fn record(
    conn: &mut DbConnection,
    suggestion: &str,
    outcome: Outcome,
    date: NaiveDate,
    call: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<OutcomeRecord> {
    super::write(conn, |conn| {
        let row = OutcomeRow {
            id: Uuid::now_v7().to_string(),
            suggestion_id: suggestion.to_owned(),
            outcome: outcome.as_str().to_owned(),
            occurred_on: date,
            call_ref: call.map(str::to_owned),
            recorded_by: actor.to_owned(),
            recorded_at: now.naive_utc(),
        };
        diesel::insert_into(suggestion_outcomes::table).values(&row).execute(conn)?;
        let why = match call {
            Some(c) => format!("{date}, {c}"),
            None => date.to_string(),
        };
        record_event(conn, suggestion, "outcome", None, Some(outcome.as_str()), actor, Some(&why), now)?;
        OutcomeRecord::try_from(row)
    })
}

/// What came of a suggestion, oldest statement first.
pub fn of_suggestion(conn: &mut DbConnection, suggestion: &str) -> QueryResult<Vec<OutcomeRecord>> {
    suggestion_outcomes::table
        .filter(suggestion_outcomes::suggestion_id.eq(suggestion))
        .order((suggestion_outcomes::recorded_at.asc(), suggestion_outcomes::id.asc()))
        .select(OutcomeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OutcomeRecord::try_from)
        .collect()
}

/// Suggestions a digest should ask about now: shown to the member, answered `contacted` or introduced by staff at
/// least [`OUTCOME_QUESTION_DAYS`] ago, with no outcome yet and not asked before; `member` narrows to one member. Oldest
/// answer first.
fn due(conn: &mut DbConnection, member: Option<Uuid>, now: DateTime<Utc>) -> QueryResult<Vec<Suggestion>> {
    let before = (now - TimeDelta::days(OUTCOME_QUESTION_DAYS)).naive_utc();
    let shown = [SuggestionStatus::Approved.as_str(), SuggestionStatus::Delivered.as_str()];
    let mut q = suggestions::table
        .filter(suggestions::status.eq_any(shown))
        .filter(
            suggestions::reaction.eq(Reaction::Contacted.as_str()).and(suggestions::reacted_at.le(before)).or(exists(
                introductions::table
                    .filter(introductions::suggestion_id.eq(suggestions::id))
                    .filter(introductions::status.eq(IntroductionStatus::Introduced.as_str()))
                    .filter(introductions::done_at.le(before)),
            )),
        )
        .filter(not(exists(suggestion_outcomes::table.filter(suggestion_outcomes::suggestion_id.eq(suggestions::id)))))
        .filter(not(exists(outcome_questions::table.filter(outcome_questions::suggestion_id.eq(suggestions::id)))))
        .select(SuggestionRow::as_select())
        .into_boxed();
    if let Some(m) = member {
        q = q.filter(suggestions::member_id.eq(m.to_string()));
    }
    q.order((suggestions::reacted_at.asc(), suggestions::id.asc()))
        .load(conn)?
        .into_iter()
        .map(Suggestion::try_from)
        .collect()
}

/// The questions `member`'s next digest asks.
pub fn due_questions(conn: &mut DbConnection, member: Uuid, now: DateTime<Utc>) -> QueryResult<Vec<Suggestion>> {
    due(conn, Some(member), now)
}

/// Members with a question due: a due question alone makes that week's digest.
pub fn members_with_due_questions(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<Vec<Uuid>> {
    let mut members: Vec<Uuid> = due(conn, None, now)?.into_iter().map(|s| s.member).collect();
    members.sort_unstable();
    members.dedup();
    Ok(members)
}

/// The digest `digest` asks about these suggestions (each is asked once).
pub fn mark_asked(conn: &mut DbConnection, ids: &[String], digest: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    let mut n = 0;
    for id in ids {
        n += diesel::insert_into(outcome_questions::table)
            .values((
                outcome_questions::suggestion_id.eq(id),
                outcome_questions::digest_id.eq(digest),
                outcome_questions::asked_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

/// Counts of one slice of the funnel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created: u64,
    pub approved: u64,
    pub delivered: u64,
    /// Introduced by staff, after both sides agreed (or, for a project with nobody to ask, the member asked).
    pub introduced: u64,
    /// By reaction, as it stands (a reaction taken back counts no more).
    pub reacted: BTreeMap<&'static str, u64>,
    /// Suggestions with each outcome (one may reach several: met, then applied together, then funded).
    pub outcomes: BTreeMap<&'static str, u64>,
}

impl Counts {
    /// Every count at zero, every reaction and outcome named.
    fn zero() -> Self {
        Self {
            reacted: Reaction::ALL.iter().map(|r| (r.as_str(), 0)).collect(),
            outcomes: Outcome::ALL.iter().map(|o| (o.as_str(), 0)).collect(),
            ..Self::default()
        }
    }
}

/// The funnel of suggestions created in `[from, to)`: overall, and by the member's sectors (a member of two
/// sectors counts in both), the project's scope (`none` for partner suggestions) and the member's size (`unknown`
/// when not given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Funnel {
    pub overall: Counts,
    pub by_sector: BTreeMap<String, Counts>,
    pub by_scope: BTreeMap<String, Counts>,
    pub by_size: BTreeMap<String, Counts>,
}

type FunnelRow = (String, String, Option<String>, String, Option<NaiveDateTime>, Option<String>, Option<NaiveDateTime>);

pub fn funnel(conn: &mut DbConnection, from: DateTime<Utc>, to: DateTime<Utc>) -> QueryResult<Funnel> {
    let rows: Vec<FunnelRow> = suggestions::table
        .filter(suggestions::created_at.ge(from.naive_utc()))
        .filter(suggestions::created_at.lt(to.naive_utc()))
        .select((
            suggestions::id,
            suggestions::member_id,
            suggestions::project_id,
            suggestions::status,
            suggestions::decided_at,
            suggestions::reaction,
            suggestions::delivered_at,
        ))
        .load(conn)?;
    let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    let mut outcomes: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<(String, String)> = suggestion_outcomes::table
            .filter(suggestion_outcomes::suggestion_id.eq_any(chunk.iter().map(|s| s.as_str())))
            .select((suggestion_outcomes::suggestion_id, suggestion_outcomes::outcome))
            .distinct()
            .load(conn)?;
        for (s, o) in found {
            outcomes.entry(s).or_default().push(o);
        }
    }
    let mut introduced: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let found: Vec<String> = introductions::table
            .filter(introductions::suggestion_id.eq_any(chunk.iter().map(|s| s.as_str())))
            .filter(introductions::status.eq(IntroductionStatus::Introduced.as_str()))
            .select(introductions::suggestion_id)
            .load(conn)?;
        introduced.extend(found);
    }
    let sectors: Vec<(String, String)> =
        member_sectors::table.select((member_sectors::member_id, member_sectors::sector)).load(conn)?;
    let mut sectors_of: HashMap<String, Vec<String>> = HashMap::new();
    for (m, s) in sectors {
        sectors_of.entry(m).or_default().push(s);
    }
    let sizes: HashMap<String, Option<String>> =
        members::table.select((members::id, members::size)).load(conn)?.into_iter().collect();
    let scopes: HashMap<String, String> =
        projects::table.select((projects::id, projects::scope)).load(conn)?.into_iter().collect();

    let mut f = Funnel {
        overall: Counts::zero(),
        by_sector: BTreeMap::new(),
        by_scope: BTreeMap::new(),
        by_size: BTreeMap::new(),
    };
    for (id, member, project, status, decided_at, reaction, delivered_at) in &rows {
        let approved = decided_at.is_some() && status != SuggestionStatus::Rejected.as_str();
        let add = |c: &mut Counts| {
            c.created += 1;
            c.approved += u64::from(approved);
            c.delivered += u64::from(delivered_at.is_some());
            c.introduced += u64::from(introduced.contains(id));
            if let Some(r) = reaction.as_deref().and_then(Reaction::from_name) {
                *c.reacted.entry(r.as_str()).or_default() += 1;
            }
            for o in outcomes.get(id).into_iter().flatten().filter_map(|o| Outcome::from_name(o)) {
                *c.outcomes.entry(o.as_str()).or_default() += 1;
            }
        };
        add(&mut f.overall);
        for sector in sectors_of.get(member).into_iter().flatten() {
            add(f.by_sector.entry(sector.clone()).or_insert_with(Counts::zero));
        }
        let scope = project.as_ref().and_then(|p| scopes.get(p)).cloned().unwrap_or_else(|| "none".to_owned());
        add(f.by_scope.entry(scope).or_insert_with(Counts::zero));
        let size = sizes.get(member).cloned().flatten().unwrap_or_else(|| "unknown".to_owned());
        add(f.by_size.entry(size).or_insert_with(Counts::zero));
    }
    Ok(f)
}
