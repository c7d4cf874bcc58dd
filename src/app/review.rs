//! Matching runs, the review queue, staff decisions, members' reactions, and each member's suggestions.

use chrono::TimeDelta;
use serde_json::Value;
use uuid::Uuid;

use super::{AppError, Services};
use crate::auth::Caller;
use crate::db::suggestions::{self, DecideError, Filter, ReactError};
use crate::db::{self, DbConnection, runs};
use crate::domain::FieldError;
use crate::domain::member::{Scope, Sector};
use crate::domain::parse::ApiEnum as _;
use crate::domain::suggestion::Outcome;
use crate::domain::version::Precondition;
use crate::domain::webhook::EventType;
use crate::review::{
    Decision, MatchingRun, Reaction, ReactionReason, Suggestion, SuggestionKind, SuggestionStatus, view,
};

fn not_found() -> AppError {
    AppError::NotFound("no suggestion has this id".to_owned())
}

/// Start a matching run; it works in the background. The run, as queued.
pub async fn start_run(svc: &Services, caller: &Caller) -> Result<MatchingRun, AppError> {
    Ok(svc.jobs.start_matching_run(caller.subject()).await?)
}

pub async fn get_run(svc: &Services, id: String) -> Result<MatchingRun, AppError> {
    db::run(&svc.pool, move |conn| runs::find(conn, &id).map_err(AppError::from))
        .await?
        .ok_or_else(|| AppError::NotFound("no matching run has this id".to_owned()))
}

/// The member a suggestion is for (for the route guard).
pub async fn owner(svc: &Services, id: String) -> Result<Option<Uuid>, AppError> {
    db::run(&svc.pool, move |conn| suggestions::owner(conn, &id).map_err(AppError::from)).await
}

/// A suggestion, and how its caller sees it.
#[derive(Debug)]
pub struct Shown {
    pub suggestion: Suggestion,
    pub view: Value,
}

/// Suggestions as a page shows them (without their history).
fn views(
    conn: &mut DbConnection,
    page: &[Suggestion],
    now: chrono::DateTime<chrono::Utc>,
    staff: bool,
) -> Result<Vec<Value>, AppError> {
    page.iter().map(|s| view::for_caller(conn, s, now, staff, false).map_err(AppError::from)).collect()
}

/// What staff narrow the review queue to, and its order.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub kind: Option<SuggestionKind>,
    /// The member's sector.
    pub sector: Option<Sector>,
    /// The project's scope.
    pub scope: Option<Scope>,
    pub min_score: Option<f64>,
    /// Waiting at least this many days.
    pub min_age_days: Option<f64>,
    /// Waiting at most this many days.
    pub max_age_days: Option<f64>,
    /// Best score first, rather than oldest first.
    pub best_first: bool,
}

/// The review queue: pending suggestions as staff see them, one more than `limit` (suggestions whose project
/// closed are expired first).
pub async fn queue(svc: &Services, q: QueueFilter, offset: i64, limit: i64) -> Result<Vec<Value>, AppError> {
    let now = svc.clock.now();
    let days_ago = |n: f64| now - TimeDelta::seconds((n * 86_400.0) as i64);
    let filter = Filter {
        statuses: vec![SuggestionStatus::Pending],
        kind: q.kind,
        sector: q.sector,
        scope: q.scope,
        min_score: q.min_score,
        created_before: q.min_age_days.map(days_ago),
        created_after: q.max_age_days.map(days_ago),
        best_first: q.best_first,
        ..Filter::default()
    };
    db::run(&svc.pool, move |conn| {
        suggestions::expire_due(conn, now)?;
        let page = suggestions::list(conn, &filter, offset, limit)?;
        views(conn, &page, now, true)
    })
    .await
}

/// The review queue as the console shows it: each suggestion with its member's card beside it.
pub async fn queue_with_cards(svc: &Services, q: QueueFilter, offset: i64, limit: i64) -> Result<Vec<Value>, AppError> {
    let mut views = queue(svc, q, offset, limit).await?;
    let members: Vec<Option<Uuid>> =
        views.iter().map(|v| v["member_id"].as_str().and_then(|id| Uuid::parse_str(id).ok())).collect();
    // A member with several suggestions on the page is read once.
    let cards = db::run(&svc.pool, move |conn| {
        let mut read: std::collections::HashMap<Uuid, Value> = std::collections::HashMap::new();
        let mut cards = Vec::with_capacity(members.len());
        for m in members {
            let card = match m {
                Some(m) => match read.get(&m) {
                    Some(card) => card.clone(),
                    None => read.entry(m).or_insert(view::card(conn, m)?).clone(),
                },
                None => Value::Null,
            };
            cards.push(card);
        }
        Ok::<_, AppError>(cards)
    })
    .await?;
    for (v, card) in views.iter_mut().zip(cards) {
        v["member"] = card;
    }
    Ok(views)
}

/// One suggestion as staff see it, with its history and its member's card.
pub async fn for_console(svc: &Services, id: String) -> Result<Shown, AppError> {
    let now = svc.clock.now();
    db::run(&svc.pool, move |conn| {
        let suggestion = suggestions::find(conn, &id)?.ok_or_else(not_found)?;
        let mut view = view::for_staff(conn, &suggestion, now, true)?;
        view["member"] = view::card(conn, suggestion.member)?;
        Ok(Shown { suggestion, view })
    })
    .await
}

/// Suggestions members reacted to, latest first, as staff see them (one more than `limit`).
pub async fn reactions(
    svc: &Services,
    reaction: Option<Reaction>,
    kind: Option<SuggestionKind>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Value>, AppError> {
    let now = svc.clock.now();
    let filter = Filter { kind, reaction, with_reaction: true, ..Filter::default() };
    db::run(&svc.pool, move |conn| {
        let page = suggestions::list(conn, &filter, offset, limit)?;
        views(conn, &page, now, true)
    })
    .await
}

/// One suggestion: staff see all of it and its history; anyone else (the member, its portal) an approved or
/// delivered one only.
pub async fn get(svc: &Services, caller: &Caller, id: String) -> Result<Shown, AppError> {
    let (now, staff) = (svc.clock.now(), caller.is_staff());
    db::run(&svc.pool, move |conn| {
        let visible = |s: &Suggestion| staff || s.status.visible_to_member();
        let suggestion = suggestions::find(conn, &id)?.filter(visible).ok_or_else(not_found)?;
        let view = view::for_caller(conn, &suggestion, now, staff, true)?;
        Ok(Shown { suggestion, view })
    })
    .await
}

/// A member's suggestions, newest first (one more than `limit`): members and portals see approved and delivered
/// ones only; staff see all, and may ask for one `status`.
pub async fn for_member(
    svc: &Services,
    caller: &Caller,
    member: Uuid,
    status: Option<SuggestionStatus>,
    kind: Option<SuggestionKind>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Value>, AppError> {
    let staff = caller.is_staff();
    let visible: Vec<SuggestionStatus> =
        SuggestionStatus::ALL.iter().copied().filter(|s| staff || s.visible_to_member()).collect();
    let statuses = match status {
        Some(s) if visible.contains(&s) => vec![s],
        Some(_) => vec![],
        None => visible,
    };
    let now = svc.clock.now();
    db::run(&svc.pool, move |conn| {
        if db::members::find(conn, member)?.is_none() {
            return Err(AppError::NotFound("no member has this id".to_owned()));
        }
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        suggestions::expire_due(conn, now)?;
        let filter = Filter { member: Some(member), statuses, kind, newest_first: true, ..Filter::default() };
        let page = suggestions::list(conn, &filter, offset, limit)?;
        views(conn, &page, now, staff)
    })
    .await
}

fn decide_error(e: DecideError) -> AppError {
    match e {
        DecideError::NotFound => not_found(),
        DecideError::Stale => AppError::Stale,
        DecideError::NotPending(_) => AppError::Conflict(e.to_string()),
        DecideError::Db(e) => e.into(),
    }
}

fn decide_one(
    conn: &mut DbConnection,
    id: &str,
    precondition: &Precondition,
    decision: &Decision,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Shown, AppError> {
    let suggestion = suggestions::decide(conn, id, precondition, decision, actor, now).map_err(decide_error)?;
    let view = view::for_staff(conn, &suggestion, now, false)?;
    Ok(Shown { suggestion, view })
}

/// Approve or reject a pending suggestion, if the precondition (its `ETag`) holds.
pub async fn decide(
    svc: &Services,
    caller: &Caller,
    id: String,
    precondition: Precondition,
    decision: Decision,
) -> Result<Shown, AppError> {
    let (now, actor) = (svc.clock.now(), caller.subject());
    db::run(&svc.pool, move |conn| decide_one(conn, &id, &precondition, &decision, &actor, now)).await
}

/// One of many decisions: which suggestion, what was decided, and the version it was decided on.
#[derive(Debug, Clone)]
pub struct BulkItem {
    pub id: String,
    pub decision: Decision,
    pub precondition: Precondition,
}

/// Many decisions, each in a transaction of its own and answered on its own, in the order given.
pub async fn decide_bulk(
    svc: &Services,
    caller: &Caller,
    items: Vec<BulkItem>,
) -> Result<Vec<(String, Result<Shown, AppError>)>, AppError> {
    let (now, actor) = (svc.clock.now(), caller.subject());
    db::run(&svc.pool, move |conn| {
        let decided = items.into_iter().map(|i| {
            let outcome = decide_one(conn, &i.id, &i.precondition, &i.decision, &actor, now);
            (i.id, outcome)
        });
        Ok(decided.collect())
    })
    .await
}

/// A member's reaction to a suggestion: `reason` goes with `not_relevant` only.
#[derive(Debug, Clone)]
pub struct Reacting {
    pub reaction: Reaction,
    pub reason: Option<ReactionReason>,
    pub comment: Option<String>,
}

fn react_error(e: ReactError) -> AppError {
    match e {
        ReactError::NotFound => not_found(),
        ReactError::Conflict(why) => AppError::Conflict(why),
        ReactError::Db(e) => e.into(),
    }
}

/// React to an approved or delivered suggestion (replacing an earlier reaction); the suggestion as the member sees
/// it.
pub async fn react(svc: &Services, caller: &Caller, id: String, r: Reacting) -> Result<Shown, AppError> {
    let (now, actor) = (svc.clock.now(), caller.subject());
    db::run(&svc.pool, move |conn| {
        let comment = r.comment.as_deref();
        let suggestion = db::write(conn, |conn| {
            let s = suggestions::react(conn, &id, r.reaction, r.reason, comment, &actor, now).map_err(react_error)?;
            crate::webhook::suggestion_event(conn, EventType::SuggestionReaction, &id, now)?;
            Ok::<_, AppError>(s)
        })?;
        let view = view::for_member(conn, &suggestion, now)?;
        Ok(Shown { suggestion, view })
    })
    .await
}

/// Take a reaction back, within `REACTION_UNDO_DAYS` of giving it.
pub async fn undo_reaction(svc: &Services, caller: &Caller, id: String) -> Result<(), AppError> {
    let (now, actor) = (svc.clock.now(), caller.subject());
    db::run(&svc.pool, move |conn| {
        db::write(conn, |conn| {
            suggestions::undo_reaction(conn, &id, &actor, now).map_err(react_error)?;
            crate::webhook::suggestion_event(conn, EventType::SuggestionReaction, &id, now)?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(())
}

/// What someone says came of a suggestion: `date` defaults to today (Luxembourg); `call` names the call applied to
/// or funded by.
#[derive(Debug, Clone)]
pub struct Recording {
    pub outcome: Outcome,
    pub date: Option<chrono::NaiveDate>,
    pub call: Option<String>,
}

/// Record an outcome on `id` as `actor`; `staff` may do so on any suggestion shown to its member, a member or
/// portal once the member has answered `contacted` or staff introduced it (what comes of a suggestion follows
/// contact).
pub fn record_outcome_in(
    conn: &mut DbConnection,
    id: &str,
    r: &Recording,
    actor: &str,
    staff: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Suggestion, AppError> {
    let s = suggestions::find(conn, id)?.filter(|s| s.status.visible_to_member()).ok_or_else(not_found)?;
    let introduced = |conn: &mut DbConnection| -> Result<bool, AppError> {
        Ok(db::introductions::of_suggestion(conn, id)?
            .is_some_and(|i| i.status == crate::domain::introduction::IntroductionStatus::Introduced))
    };
    if !staff && s.reaction != Some(Reaction::Contacted) && !introduced(conn)? {
        return Err(AppError::Conflict(
            "what came of a suggestion is recorded after contact: answer `contacted` first, or be introduced"
                .to_owned(),
        ));
    }
    let today = now.with_timezone(&chrono_tz::Europe::Luxembourg).date_naive();
    let date = r.date.unwrap_or(today);
    let mut errors = Vec::new();
    if date > today {
        errors.push(FieldError::new("/date", "must not be in the future (Luxembourg time)"));
    }
    if date < s.created_at.with_timezone(&chrono_tz::Europe::Luxembourg).date_naive() {
        errors.push(FieldError::new("/date", "must not be before the suggestion was made"));
    }
    if r.call.is_some() && !r.outcome.names_a_call() {
        errors.push(FieldError::new("/call", "is only for applied_together and funded"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    db::write(conn, |conn| {
        db::outcomes::record(conn, id, r.outcome, date, r.call.as_deref(), actor, now)?;
        crate::webhook::suggestion_event(conn, EventType::SuggestionOutcome, id, now)?;
        suggestions::find(conn, id)?.ok_or_else(not_found)
    })
}

/// Record what came of a suggestion (the member, its portal, or staff); the suggestion as the caller sees it.
pub async fn record_outcome(svc: &Services, caller: &Caller, id: String, r: Recording) -> Result<Shown, AppError> {
    let (now, actor, staff) = (svc.clock.now(), caller.subject(), caller.is_staff());
    db::run(&svc.pool, move |conn| {
        let suggestion = record_outcome_in(conn, &id, &r, &actor, staff, now)?;
        let view = view::for_caller(conn, &suggestion, now, staff, false)?;
        Ok(Shown { suggestion, view })
    })
    .await
}

/// The funnel of suggestions created in `[from, to)` (staff).
pub async fn funnel(
    svc: &Services,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<db::outcomes::Funnel, AppError> {
    db::run(&svc.pool, move |conn| db::outcomes::funnel(conn, from, to).map_err(AppError::from)).await
}
