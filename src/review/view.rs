//! Suggestions as the API shows them: in full to staff; to a member (or its portal) only what it may see, with any
//! other member as a public card (never its contact e-mail).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Suggestion;
use crate::db::{DbConnection, QueryError, members, projects, suggestions};
use crate::domain::member::timestamp;

/// Another member as a member may see it.
pub fn card(conn: &mut DbConnection, id: Uuid) -> Result<Value, QueryError> {
    let Some(m) = members::find(conn, id)? else { return Ok(Value::Null) };
    let p = &m.profile;
    Ok(json!({
        "name": p.name,
        "sectors": p.sectors,
        "country": p.country,
        "city": p.city,
        "website": p.website,
    }))
}

/// A project as a suggestion shows it.
pub fn project_summary(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> Result<Value, QueryError> {
    let Some(p) = projects::find(conn, id)? else { return Ok(Value::Null) };
    let full = p.to_json(now, false);
    let mut out = Map::new();
    for key in ["id", "title", "scope", "programme", "call_id", "opens_at", "deadline", "source_url", "status"] {
        out.insert(key.to_owned(), full.get(key).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

/// The description of a project suggestion's project, for a digest or a suggestion's page (none for partners).
pub fn description(conn: &mut DbConnection, s: &Suggestion) -> Result<Option<String>, QueryError> {
    let Some(p) = s.project.filter(|_| s.kind == super::SuggestionKind::Project) else { return Ok(None) };
    Ok(projects::find(conn, p)?.map(|p| p.draft.description).filter(|d| !d.trim().is_empty()))
}

/// The explanation without anything a member should not read.
fn public_explanation(s: &Suggestion) -> Value {
    let stored: Value = serde_json::from_str(&s.explanation).unwrap_or_else(|_| json!({}));
    json!({
        "components": stored.get("components").cloned().unwrap_or_else(|| json!([])),
        "matched": stored.get("matched").cloned().unwrap_or_else(|| json!([])),
        "missing": stored.get("missing").cloned().unwrap_or_else(|| json!([])),
        "feedback": stored.get("feedback").cloned().unwrap_or(Value::Null),
    })
}

/// What came of a suggestion, oldest first; staff also see who said so.
fn outcomes(conn: &mut DbConnection, id: &str, staff: bool) -> Result<Value, QueryError> {
    let rows = crate::db::outcomes::of_suggestion(conn, id)?;
    Ok(Value::Array(
        rows.into_iter()
            .map(|o| {
                let mut v = json!({
                    "outcome": o.outcome,
                    "date": o.date.to_string(),
                    "call": o.call,
                    "recorded_at": timestamp(o.recorded_at),
                });
                if staff {
                    v["recorded_by"] = json!(o.recorded_by);
                }
                v
            })
            .collect(),
    ))
}

/// A suggestion as its member sees it.
pub fn for_member(conn: &mut DbConnection, s: &Suggestion, now: DateTime<Utc>) -> Result<Value, QueryError> {
    shown(conn, s, now, false)
}

/// The member's view, which staff's view extends; with `staff`, each outcome says who recorded it and the
/// introduction shows in full.
fn shown(conn: &mut DbConnection, s: &Suggestion, now: DateTime<Utc>, staff: bool) -> Result<Value, QueryError> {
    let project = match s.project {
        Some(p) => project_summary(conn, p, now)?,
        None => Value::Null,
    };
    let partner = match s.partner {
        Some(p) => card(conn, p)?,
        None => Value::Null,
    };
    let introduction = crate::db::introductions::of_suggestion(conn, &s.id)?;
    Ok(json!({
        "id": s.id,
        "kind": s.kind,
        "status": s.status,
        "score": s.score,
        "rationale": s.rationale,
        "explanation": public_explanation(s),
        "project": project,
        "partner": partner,
        "reaction": s.reaction,
        "reaction_reason": s.reaction_reason,
        "reaction_comment": s.reaction_comment,
        "reacted_at": s.reacted_at.map(timestamp),
        "delivered_at": s.delivered_at.map(timestamp),
        "outcomes": outcomes(conn, &s.id, staff)?,
        "introduction": introduction.map(|i| if staff { i.to_staff_json(now) } else { i.to_member_json(now) }),
        "created_at": timestamp(s.created_at),
    }))
}

/// A suggestion as its caller may see it: staff all of it (its history when `history` is set), anyone else the
/// member's view.
pub fn for_caller(
    conn: &mut DbConnection,
    s: &Suggestion,
    now: DateTime<Utc>,
    staff: bool,
    history: bool,
) -> Result<Value, QueryError> {
    if staff { for_staff(conn, s, now, history) } else { for_member(conn, s, now) }
}

/// A suggestion as staff see it; with its history when `history` is set.
pub fn for_staff(
    conn: &mut DbConnection,
    s: &Suggestion,
    now: DateTime<Utc>,
    history: bool,
) -> Result<Value, QueryError> {
    let mut out = shown(conn, s, now, true)?;
    if let Some(obj) = out.as_object_mut() {
        obj.insert("member_id".into(), json!(s.member));
        obj.insert("project_id".into(), json!(s.project));
        obj.insert("partner_id".into(), json!(s.partner));
        obj.insert("run_id".into(), json!(s.run_id));
        obj.insert("explanation".into(), serde_json::from_str(&s.explanation).unwrap_or_else(|_| json!({})));
        obj.insert("decision_reason".into(), json!(s.decision_reason));
        obj.insert("decided_by".into(), json!(s.decided_by));
        obj.insert("decided_at".into(), json!(s.decided_at.map(timestamp)));
        obj.insert("digest_id".into(), json!(s.digest_id));
        obj.insert("version".into(), json!(s.version));
        obj.insert("updated_at".into(), json!(timestamp(s.updated_at)));
        if history {
            let events: Vec<Value> = suggestions::events(conn, &s.id)?
                .into_iter()
                .map(|e| {
                    json!({
                        "field": e.field,
                        "from": e.from_value,
                        "to": e.to_value,
                        "actor": e.actor,
                        "reason": e.reason,
                        "at": timestamp(e.at.and_utc()),
                    })
                })
                .collect();
            obj.insert("history".into(), Value::Array(events));
        }
    }
    Ok(out)
}
