//! Suggestions as the API shows them: in full to staff; to a member (or its portal) only what it may see, with any
//! other member as a public card (never its contact e-mail).

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::db::DbConnection;
use crate::db::suggestions::{self, SuggestionRow};
use crate::domain::member::timestamp;

fn at(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map_or(Value::Null, |t| json!(timestamp(t.and_utc())))
}

/// Another member as a member may see it.
pub fn card(conn: &mut DbConnection, id: &str) -> QueryResult<Value> {
    let Some(m) = Uuid::parse_str(id).ok().map(|id| crate::db::members::find(conn, id)).transpose()?.flatten() else {
        return Ok(Value::Null);
    };
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
pub fn project_summary(conn: &mut DbConnection, id: &str, now: DateTime<Utc>) -> QueryResult<Value> {
    let Some(p) = Uuid::parse_str(id).ok().map(|id| crate::db::projects::find(conn, id)).transpose()?.flatten() else {
        return Ok(Value::Null);
    };
    let full = p.to_json(now, false);
    let mut out = Map::new();
    for key in ["id", "title", "scope", "programme", "call_id", "deadline", "source_url", "status"] {
        out.insert(key.to_owned(), full.get(key).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

/// The explanation without anything a member should not read.
fn public_explanation(row: &SuggestionRow) -> Value {
    let stored: Value = serde_json::from_str(&row.explanation).unwrap_or_else(|_| json!({}));
    json!({
        "components": stored.get("components").cloned().unwrap_or_else(|| json!([])),
        "matched": stored.get("matched").cloned().unwrap_or_else(|| json!([])),
        "missing": stored.get("missing").cloned().unwrap_or_else(|| json!([])),
        "feedback": stored.get("feedback").cloned().unwrap_or(Value::Null),
    })
}

/// A suggestion as its member sees it.
pub fn for_member(conn: &mut DbConnection, row: &SuggestionRow, now: DateTime<Utc>) -> QueryResult<Value> {
    let project = match &row.project_id {
        Some(p) => project_summary(conn, p, now)?,
        None => Value::Null,
    };
    let partner = match &row.partner_id {
        Some(p) => card(conn, p)?,
        None => Value::Null,
    };
    Ok(json!({
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "score": row.score,
        "rationale": row.rationale,
        "explanation": public_explanation(row),
        "project": project,
        "partner": partner,
        "reaction": row.reaction,
        "reaction_reason": row.reaction_reason,
        "reaction_comment": row.reaction_comment,
        "reacted_at": at(row.reacted_at),
        "delivered_at": at(row.delivered_at),
        "created_at": timestamp(row.created_at.and_utc()),
    }))
}

/// A suggestion as its caller may see it: staff all of it (its history when `history` is set), anyone else the
/// member's view.
pub fn for_caller(
    conn: &mut DbConnection,
    row: &SuggestionRow,
    now: DateTime<Utc>,
    staff: bool,
    history: bool,
) -> QueryResult<Value> {
    if staff { for_staff(conn, row, now, history) } else { for_member(conn, row, now) }
}

/// A suggestion as staff see it; with its history when `history` is set.
pub fn for_staff(
    conn: &mut DbConnection,
    row: &SuggestionRow,
    now: DateTime<Utc>,
    history: bool,
) -> QueryResult<Value> {
    let mut out = for_member(conn, row, now)?;
    if let Some(obj) = out.as_object_mut() {
        obj.insert("member_id".into(), json!(row.member_id));
        obj.insert("project_id".into(), json!(row.project_id));
        obj.insert("partner_id".into(), json!(row.partner_id));
        obj.insert("run_id".into(), json!(row.run_id));
        obj.insert("explanation".into(), serde_json::from_str(&row.explanation).unwrap_or_else(|_| json!({})));
        obj.insert("decision_reason".into(), json!(row.decision_reason));
        obj.insert("decided_by".into(), json!(row.decided_by));
        obj.insert("decided_at".into(), at(row.decided_at));
        obj.insert("digest_id".into(), json!(row.digest_id));
        obj.insert("version".into(), json!(row.version));
        obj.insert("updated_at".into(), json!(timestamp(row.updated_at.and_utc())));
        if history {
            let events: Vec<Value> = suggestions::events(conn, &row.id)?
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
