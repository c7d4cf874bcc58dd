//! Suggestions and their transitions (every change of status, rationale or reaction) in the database.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{member_sectors, members, projects, suggestion_events, suggestions};
use super::{DbConnection, QueryError};
use crate::domain::member::{Scope, Sector, Size};
use crate::domain::parse::ApiEnum;
use crate::domain::project::admits;
use crate::domain::suggestion::{
    Decision, REACTION_UNDO_DAYS, Reaction, ReactionReason, Suggestion, SuggestionKind, SuggestionStatus,
};
use crate::domain::version::Precondition;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = suggestions)]
pub struct SuggestionRow {
    pub id: String,
    pub kind: String,
    pub member_id: String,
    pub target: String,
    pub project_id: Option<String>,
    pub partner_id: Option<String>,
    pub run_id: String,
    pub score: f64,
    pub explanation: String,
    pub rationale: String,
    pub status: String,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub reaction: Option<String>,
    pub reaction_reason: Option<String>,
    pub reaction_comment: Option<String>,
    pub reacted_at: Option<NaiveDateTime>,
    pub digest_id: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl SuggestionRow {
    /// A new pending suggestion.
    #[allow(clippy::too_many_arguments, reason = "one field each, all required")]
    pub fn new_pending(
        kind: SuggestionKind,
        member: Uuid,
        target: String,
        project: Option<Uuid>,
        partner: Option<Uuid>,
        run: &str,
        score: f64,
        explanation: String,
        rationale: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7().to_string(),
            kind: kind.as_str().to_owned(),
            member_id: member.to_string(),
            target,
            project_id: project.map(|p| p.to_string()),
            partner_id: partner.map(|p| p.to_string()),
            run_id: run.to_owned(),
            score,
            explanation,
            rationale,
            status: SuggestionStatus::Pending.as_str().to_owned(),
            decision_reason: None,
            decided_by: None,
            decided_at: None,
            reaction: None,
            reaction_reason: None,
            reaction_comment: None,
            reacted_at: None,
            digest_id: None,
            delivered_at: None,
            version: 1,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        }
    }
}

fn corrupt(what: &str, value: &str) -> QueryError {
    QueryError::DeserializationError(format!("stored suggestion {what} `{value}` is not valid").into())
}

fn stored_enum<T: ApiEnum>(what: &str, value: &str) -> QueryResult<T> {
    T::from_name(value).ok_or_else(|| corrupt(what, value))
}

fn stored_id(what: &str, value: &str) -> QueryResult<Uuid> {
    Uuid::parse_str(value).map_err(|_| corrupt(what, value))
}

/// A stored suggestion as the domain knows it: a kind, status or reaction this service does not know is refused,
/// never read as some default.
impl TryFrom<SuggestionRow> for Suggestion {
    type Error = QueryError;

    fn try_from(row: SuggestionRow) -> QueryResult<Self> {
        Ok(Self {
            kind: stored_enum("kind", &row.kind)?,
            member: stored_id("member_id", &row.member_id)?,
            project: row.project_id.as_deref().map(|p| stored_id("project_id", p)).transpose()?,
            partner: row.partner_id.as_deref().map(|p| stored_id("partner_id", p)).transpose()?,
            status: stored_enum("status", &row.status)?,
            reaction: row.reaction.as_deref().map(|r| stored_enum("reaction", r)).transpose()?,
            reaction_reason: row.reaction_reason.as_deref().map(|r| stored_enum("reaction_reason", r)).transpose()?,
            id: row.id,
            target: row.target,
            run_id: row.run_id,
            score: row.score,
            explanation: row.explanation,
            rationale: row.rationale,
            decision_reason: row.decision_reason,
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(|t| t.and_utc()),
            reaction_comment: row.reaction_comment,
            reacted_at: row.reacted_at.map(|t| t.and_utc()),
            digest_id: row.digest_id,
            delivered_at: row.delivered_at.map(|t| t.and_utc()),
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

fn parsed(rows: Vec<SuggestionRow>) -> QueryResult<Vec<Suggestion>> {
    rows.into_iter().map(Suggestion::try_from).collect()
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = suggestion_events)]
pub struct EventRow {
    pub id: String,
    pub suggestion_id: String,
    pub field: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub actor: String,
    pub reason: Option<String>,
    pub at: NaiveDateTime,
}

/// Record one transition of `field` (`status` or `reaction`).
#[allow(clippy::too_many_arguments, reason = "one column each")]
pub fn record_event(
    conn: &mut DbConnection,
    suggestion: &str,
    field: &str,
    from: Option<&str>,
    to: Option<&str>,
    actor: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let row = EventRow {
        id: Uuid::now_v7().to_string(),
        suggestion_id: suggestion.to_owned(),
        field: field.to_owned(),
        from_value: from.map(str::to_owned),
        to_value: to.map(str::to_owned),
        actor: actor.to_owned(),
        reason: reason.map(str::to_owned),
        at: now.naive_utc(),
    };
    diesel::insert_into(suggestion_events::table).values(&row).execute(conn)?;
    Ok(())
}

pub fn events(conn: &mut DbConnection, suggestion: &str) -> QueryResult<Vec<EventRow>> {
    suggestion_events::table
        .filter(suggestion_events::suggestion_id.eq(suggestion))
        .order((suggestion_events::at.asc(), suggestion_events::id.asc()))
        .select(EventRow::as_select())
        .load(conn)
}

/// Insert a new suggestion and its first transition. `Ok(false)` when a live suggestion for the pair appeared
/// meanwhile (another run): the unique index on live pairs refuses the second.
pub fn insert(conn: &mut DbConnection, row: &SuggestionRow, actor: &str) -> QueryResult<bool> {
    let outcome = super::savepoint(conn, |conn| {
        diesel::insert_into(suggestions::table).values(row).execute(conn)?;
        record_event(conn, &row.id, "status", None, Some(&row.status), actor, None, row.created_at.and_utc())
    });
    match outcome {
        Ok(()) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Suggestion>> {
    suggestions::table
        .find(id)
        .select(SuggestionRow::as_select())
        .first(conn)
        .optional()?
        .map(Suggestion::try_from)
        .transpose()
}

/// The member a suggestion is for (for the authorisation guard).
pub fn owner(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Uuid>> {
    let member: Option<String> = suggestions::table.find(id).select(suggestions::member_id).first(conn).optional()?;
    member.map(|m| stored_id("member_id", &m)).transpose()
}

/// Every earlier suggestion of `member` for each of `pairs` (kind, target), newest first: one query for a member's
/// proposals rather than one a pair.
pub fn pair_histories(
    conn: &mut DbConnection,
    member: Uuid,
    pairs: &[(SuggestionKind, &str)],
) -> QueryResult<HashMap<(SuggestionKind, String), Vec<Suggestion>>> {
    let mut out: HashMap<(SuggestionKind, String), Vec<Suggestion>> = HashMap::new();
    if pairs.is_empty() {
        return Ok(out);
    }
    let targets: Vec<&str> = pairs.iter().map(|(_, t)| *t).collect();
    let rows = suggestions::table
        .filter(suggestions::member_id.eq(member.to_string()))
        .filter(suggestions::target.eq_any(targets))
        .order((suggestions::created_at.desc(), suggestions::id.desc()))
        .select(SuggestionRow::as_select())
        .load(conn)?;
    for s in parsed(rows)? {
        if pairs.iter().any(|(k, t)| *k == s.kind && *t == s.target) {
            out.entry((s.kind, s.target.clone())).or_default().push(s);
        }
    }
    Ok(out)
}

/// Suggestions a member marked not relevant for a reason about their content.
pub fn objections(conn: &mut DbConnection) -> QueryResult<Vec<Suggestion>> {
    let reasons: Vec<&str> =
        ReactionReason::ALL.iter().filter(|r| r.objects_to_content()).map(|r| r.as_str()).collect();
    suggestions::table
        .filter(suggestions::reaction.eq(Reaction::NotRelevant.as_str()))
        .filter(suggestions::reaction_reason.eq_any(reasons))
        .select(SuggestionRow::as_select())
        .load(conn)
        .and_then(parsed)
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no suggestion has this id")]
    NotFound,
    #[error("the suggestion has changed since the ETag given in If-Match")]
    Stale,
    #[error("the suggestion is {0} already; only pending suggestions are decided")]
    NotPending(SuggestionStatus),
    #[error(transparent)]
    Db(#[from] QueryError),
}

/// Approve or reject a pending suggestion if `precondition` (its `If-Match`) holds. The version is checked in the
/// UPDATE itself, so of two conflicting decisions one wins and the other is told so.
pub fn decide(
    conn: &mut DbConnection,
    id: &str,
    precondition: &Precondition,
    decision: &Decision,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Suggestion, DecideError> {
    super::write(conn, |conn| {
        let row = find(conn, id)?.ok_or(DecideError::NotFound)?;
        if !precondition.holds(&row.etag()) {
            return Err(DecideError::Stale);
        }
        if row.status != SuggestionStatus::Pending {
            return Err(DecideError::NotPending(row.status));
        }
        let to = if decision.approve { SuggestionStatus::Approved } else { SuggestionStatus::Rejected };
        let rationale = decision.rationale.clone().unwrap_or_else(|| row.rationale.clone());
        let changed = diesel::update(
            suggestions::table
                .filter(suggestions::id.eq(id))
                .filter(suggestions::version.eq(row.version))
                .filter(suggestions::status.eq(SuggestionStatus::Pending.as_str())),
        )
        .set((
            suggestions::status.eq(to.as_str()),
            suggestions::decision_reason.eq(decision.reason.clone()),
            suggestions::decided_by.eq(actor),
            suggestions::decided_at.eq(now.naive_utc()),
            suggestions::rationale.eq(&rationale),
            suggestions::version.eq(row.version + 1),
            suggestions::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(DecideError::Stale);
        }
        let (from, reason) = (row.status.as_str(), decision.reason.as_deref());
        record_event(conn, id, "status", Some(from), Some(to.as_str()), actor, reason, now)?;
        if decision.rationale.as_ref().is_some_and(|r| *r != row.rationale) {
            record_event(conn, id, "rationale", Some(&row.rationale), Some(&rationale), actor, None, now)?;
        }
        find(conn, id)?.ok_or(DecideError::NotFound)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ReactError {
    #[error("no suggestion has this id")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] QueryError),
}

/// Set the member's reaction (replacing an earlier one).
pub fn react(
    conn: &mut DbConnection,
    id: &str,
    reaction: Reaction,
    reason: Option<ReactionReason>,
    comment: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Suggestion, ReactError> {
    super::write(conn, |conn| {
        let row = find(conn, id)?.filter(|r| r.status.visible_to_member()).ok_or(ReactError::NotFound)?;
        diesel::update(suggestions::table.filter(suggestions::id.eq(id)))
            .set((
                suggestions::reaction.eq(reaction.as_str()),
                suggestions::reaction_reason.eq(reason.map(|r| r.as_str())),
                suggestions::reaction_comment.eq(comment),
                suggestions::reacted_at.eq(now.naive_utc()),
                suggestions::version.eq(row.version + 1),
                suggestions::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        let why = match (reason, comment) {
            (Some(r), Some(c)) => Some(format!("{r}: {c}")),
            (Some(r), None) => Some(r.as_str().to_owned()),
            (None, c) => c.map(str::to_owned),
        };
        record_event(
            conn,
            id,
            "reaction",
            row.reaction.map(Reaction::as_str),
            Some(reaction.as_str()),
            actor,
            why.as_deref(),
            now,
        )?;
        find(conn, id)?.ok_or(ReactError::NotFound)
    })
}

/// Take a reaction back, within [`REACTION_UNDO_DAYS`] of giving it.
pub fn undo_reaction(
    conn: &mut DbConnection,
    id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Suggestion, ReactError> {
    super::write(conn, |conn| {
        let row = find(conn, id)?.filter(|r| r.status.visible_to_member()).ok_or(ReactError::NotFound)?;
        let (Some(previous), Some(at)) = (row.reaction, row.reacted_at) else {
            return Err(ReactError::Conflict("there is no reaction to take back".to_owned()));
        };
        if now - at > TimeDelta::days(REACTION_UNDO_DAYS) {
            return Err(ReactError::Conflict(format!(
                "a reaction can be taken back within {} days of giving it",
                REACTION_UNDO_DAYS
            )));
        }
        diesel::update(suggestions::table.filter(suggestions::id.eq(id)))
            .set((
                suggestions::reaction.eq(None::<String>),
                suggestions::reaction_reason.eq(None::<String>),
                suggestions::reaction_comment.eq(None::<String>),
                suggestions::reacted_at.eq(None::<NaiveDateTime>),
                suggestions::version.eq(row.version + 1),
                suggestions::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        record_event(conn, id, "reaction", Some(previous.as_str()), None, actor, Some("taken back"), now)?;
        find(conn, id)?.ok_or(ReactError::NotFound)
    })
}

/// A live suggestion about a project that limits who may apply: id, status, kind, member, partner, the project's
/// eligible countries (JSON) and sizes (space-separated).
type LimitedRow = (String, String, String, String, Option<String>, String, String);

/// Mark pending and approved suggestions expired: those about projects whose deadline has passed (or that staff
/// closed), and those about projects that no longer admit the member who would apply (the project's eligible
/// countries or sizes, or the member's country or size, changed since the run): the member for a project, the
/// candidate for a lead's project. Returns how many.
pub fn expire_due(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let live = [SuggestionStatus::Pending.as_str(), SuggestionStatus::Approved.as_str()];
    let closed_projects = projects::table
        .filter(projects::closed.eq(true).or(projects::deadline.le(now.naive_utc())))
        .select(projects::id);
    let due: Vec<(String, String)> = suggestions::table
        .filter(suggestions::status.eq_any(live))
        .filter(suggestions::project_id.eq_any(closed_projects.nullable()))
        .select((suggestions::id, suggestions::status))
        .load(conn)?;
    let expired = expire(conn, &due, "deadline passed", now)?;
    // The member who would apply: the suggestion's own for a project, the candidate for a lead's project.
    let limited: Vec<LimitedRow> = suggestions::table
        .inner_join(projects::table.on(suggestions::project_id.eq(projects::id.nullable())))
        .filter(suggestions::status.eq_any(live))
        .filter(suggestions::kind.eq_any([SuggestionKind::Project.as_str(), SuggestionKind::Candidate.as_str()]))
        .filter(projects::eligible_countries.ne("[]").or(projects::eligible_sizes.ne("")))
        .select((
            suggestions::id,
            suggestions::status,
            suggestions::kind,
            suggestions::member_id,
            suggestions::partner_id,
            projects::eligible_countries,
            projects::eligible_sizes,
        ))
        .load(conn)?;
    let applicant = |kind: &str, member: &str, partner: &Option<String>| {
        if kind == SuggestionKind::Candidate.as_str() { partner.clone() } else { Some(member.to_owned()) }
    };
    let mut ids: Vec<String> = limited.iter().filter_map(|(_, _, kind, m, p, _, _)| applicant(kind, m, p)).collect();
    ids.sort_unstable();
    ids.dedup();
    let applicants: HashMap<String, (String, Option<String>)> = members::table
        .filter(members::id.eq_any(&ids))
        .select((members::id, members::country, members::size))
        .load::<(String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, country, size)| (id, (country, size)))
        .collect();
    let mut ineligible = Vec::new();
    for (id, status, kind, member, partner, countries, sizes) in limited {
        let Some((country, size)) = applicant(&kind, &member, &partner).and_then(|m| applicants.get(&m)) else {
            continue;
        };
        let countries: Vec<String> = serde_json::from_str(&countries).map_err(|_| corrupt("countries", &countries))?;
        let sizes: Vec<Size> = sizes.split_whitespace().map(|s| stored_enum("size", s)).collect::<QueryResult<_>>()?;
        let size = size.as_deref().map(|s| stored_enum::<Size>("size", s)).transpose()?;
        if !admits(&countries, &sizes, country, size) {
            ineligible.push((id, status));
        }
    }
    Ok(expired + expire(conn, &ineligible, "the member can no longer apply", now)?)
}

/// Mark each of `due` (id, status as read) expired unless it changed meanwhile, with `why` in its history; how many.
fn expire(conn: &mut DbConnection, due: &[(String, String)], why: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    let to = SuggestionStatus::Expired;
    for (id, from) in due {
        let from: SuggestionStatus = stored_enum("status", from)?;
        super::write(conn, |conn| {
            let changed = diesel::update(
                suggestions::table.filter(suggestions::id.eq(id)).filter(suggestions::status.eq(from.as_str())),
            )
            .set((
                suggestions::status.eq(to.as_str()),
                suggestions::version.eq(suggestions::version + 1),
                suggestions::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
            if changed > 0 {
                let (from, to) = (Some(from.as_str()), Some(to.as_str()));
                record_event(conn, id, "status", from, to, "system", Some(why), now)?;
            }
            QueryResult::Ok(())
        })?;
    }
    Ok(due.len())
}

/// Filters of the review queue and of staff lists.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub member: Option<Uuid>,
    pub statuses: Vec<SuggestionStatus>,
    pub kind: Option<SuggestionKind>,
    /// The member's sector.
    pub sector: Option<Sector>,
    /// The project's scope.
    pub scope: Option<Scope>,
    pub min_score: Option<f64>,
    pub created_before: Option<DateTime<Utc>>,
    pub created_after: Option<DateTime<Utc>>,
    pub with_reaction: bool,
    pub reaction: Option<Reaction>,
    pub best_first: bool,
    pub newest_first: bool,
}

/// One page of suggestions matching `f`, skipping `offset`, at most `limit` (+1 to tell whether more follow).
pub fn list(conn: &mut DbConnection, f: &Filter, offset: i64, limit: i64) -> QueryResult<Vec<Suggestion>> {
    let mut q = suggestions::table.select(SuggestionRow::as_select()).into_boxed();
    if let Some(m) = f.member {
        q = q.filter(suggestions::member_id.eq(m.to_string()));
    }
    if !f.statuses.is_empty() {
        q = q.filter(suggestions::status.eq_any(f.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
    }
    if let Some(k) = f.kind {
        q = q.filter(suggestions::kind.eq(k.as_str()));
    }
    if let Some(sector) = f.sector {
        let members =
            member_sectors::table.filter(member_sectors::sector.eq(sector.as_str())).select(member_sectors::member_id);
        q = q.filter(suggestions::member_id.eq_any(members));
    }
    if let Some(scope) = f.scope {
        let scoped = projects::table.filter(projects::scope.eq(scope.as_str())).select(projects::id);
        q = q.filter(suggestions::project_id.eq_any(scoped.nullable()));
    }
    if let Some(s) = f.min_score {
        q = q.filter(suggestions::score.ge(s));
    }
    if let Some(t) = f.created_before {
        q = q.filter(suggestions::created_at.le(t.naive_utc()));
    }
    if let Some(t) = f.created_after {
        q = q.filter(suggestions::created_at.ge(t.naive_utc()));
    }
    if let Some(r) = f.reaction {
        q = q.filter(suggestions::reaction.eq(r.as_str()));
    }
    if f.with_reaction {
        q = q.filter(suggestions::reaction.is_not_null());
        q = q.order((suggestions::reacted_at.desc(), suggestions::id.desc()));
    } else if f.best_first {
        q = q.order((suggestions::score.desc(), suggestions::id.asc()));
    } else if f.newest_first {
        q = q.order((suggestions::created_at.desc(), suggestions::id.desc()));
    } else {
        q = q.order((suggestions::created_at.asc(), suggestions::id.asc()));
    }
    q.offset(offset).limit(limit + 1).load(conn).and_then(parsed)
}

/// Approved suggestions not yet in a digest, for one member, oldest first.
pub fn undelivered(conn: &mut DbConnection, member: Uuid) -> QueryResult<Vec<Suggestion>> {
    suggestions::table
        .filter(suggestions::member_id.eq(member.to_string()))
        .filter(suggestions::status.eq(SuggestionStatus::Approved.as_str()))
        .filter(suggestions::digest_id.is_null())
        .order((suggestions::score.desc(), suggestions::id.asc()))
        .select(SuggestionRow::as_select())
        .load(conn)
        .and_then(parsed)
}

pub fn in_digest(conn: &mut DbConnection, digest: &str) -> QueryResult<Vec<Suggestion>> {
    suggestions::table
        .filter(suggestions::digest_id.eq(digest))
        .order((suggestions::score.desc(), suggestions::id.asc()))
        .select(SuggestionRow::as_select())
        .load(conn)
        .and_then(parsed)
}

/// Put approved suggestions into a digest.
pub fn attach(conn: &mut DbConnection, ids: &[String], digest: &str) -> QueryResult<usize> {
    diesel::update(
        suggestions::table
            .filter(suggestions::id.eq_any(ids))
            .filter(suggestions::status.eq(SuggestionStatus::Approved.as_str()))
            .filter(suggestions::digest_id.is_null()),
    )
    .set(suggestions::digest_id.eq(digest))
    .execute(conn)
}

/// The digest went out: its suggestions are delivered.
pub fn mark_delivered(conn: &mut DbConnection, digest: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    let rows = in_digest(conn, digest)?;
    let mut n = 0;
    let (from, to) = (SuggestionStatus::Approved, SuggestionStatus::Delivered);
    for row in rows.iter().filter(|r| r.status == from) {
        n += diesel::update(
            suggestions::table.filter(suggestions::id.eq(&row.id)).filter(suggestions::status.eq(from.as_str())),
        )
        .set((
            suggestions::status.eq(to.as_str()),
            suggestions::delivered_at.eq(now.naive_utc()),
            suggestions::version.eq(row.version + 1),
            suggestions::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
        record_event(conn, &row.id, "status", Some(from.as_str()), Some(to.as_str()), "system", Some(digest), now)?;
    }
    Ok(n)
}

/// Members with at least one approved suggestion not yet in a digest.
pub fn members_with_undelivered(conn: &mut DbConnection) -> QueryResult<Vec<Uuid>> {
    let members: Vec<String> = suggestions::table
        .filter(suggestions::status.eq(SuggestionStatus::Approved.as_str()))
        .filter(suggestions::digest_id.is_null())
        .select(suggestions::member_id)
        .distinct()
        .order(suggestions::member_id.asc())
        .load(conn)?;
    members.iter().map(|m| stored_id("member_id", m)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> SuggestionRow {
        let now = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().to_utc();
        let (member, partner) = (Uuid::now_v7(), Uuid::now_v7());
        let explanation = "{}".to_owned();
        let (kind, target) = (SuggestionKind::Partner, partner.to_string());
        SuggestionRow::new_pending(
            kind,
            member,
            target,
            None,
            Some(partner),
            "r",
            60.0,
            explanation,
            String::new(),
            now,
        )
    }

    #[test]
    fn stored_suggestions_read_typed() {
        let mut r = row();
        r.reaction = Some("not_relevant".to_owned());
        r.reaction_reason = Some("wrong_skills".to_owned());
        let s = Suggestion::try_from(r.clone()).unwrap();
        assert_eq!(s.kind, SuggestionKind::Partner);
        assert_eq!(s.status, SuggestionStatus::Pending);
        assert_eq!(s.reaction, Some(Reaction::NotRelevant));
        assert_eq!(s.reaction_reason, Some(ReactionReason::WrongSkills));
        assert_eq!(s.member.to_string(), r.member_id);
        assert_eq!(s.etag(), crate::domain::member::etag_for(1));
    }

    #[test]
    fn unknown_stored_values_are_refused() {
        let refused = |change: &dyn Fn(&mut SuggestionRow)| {
            let mut r = row();
            change(&mut r);
            Suggestion::try_from(r).unwrap_err().to_string()
        };
        assert!(refused(&|r| r.status = "archived".to_owned()).contains("status `archived`"));
        assert!(refused(&|r| r.status = "Pending".to_owned()).contains("status `Pending`"), "no case folding");
        assert!(refused(&|r| r.kind = "call".to_owned()).contains("kind `call`"));
        assert!(refused(&|r| r.reaction = Some("meh".to_owned())).contains("reaction `meh`"));
        assert!(refused(&|r| r.reaction_reason = Some("x".to_owned())).contains("reaction_reason `x`"));
        assert!(refused(&|r| r.member_id = "nobody".to_owned()).contains("member_id `nobody`"));
    }
}
