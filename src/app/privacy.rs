//! What the service holds about a member, as one document (the right of access).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppError, Services};
use crate::auth::Caller;
use crate::db::digests::DigestFilter;
use crate::db::{self, DbConnection, accounts, audit, digests, introductions, members, messages, suggestions};
use crate::domain::member::timestamp;
use crate::review::view;

/// The version of the export's layout.
pub const EXPORT_FORMAT: &str = "cluster-matchmaker-export/1";

/// Everything held about `member`: its profile with each term's mapping, its accounts and portals, its suggestions
/// (with what came of them and its introductions), the introductions it was asked about, the e-mails sent to it,
/// and the audit entries about it or made by its accounts. Staff see every suggestion, with its history; the member
/// and its portals the ones shown to the member (a suggestion staff have not approved names another member).
pub async fn export(svc: &Services, caller: &Caller, member: Uuid) -> Result<Value, AppError> {
    let (now, staff) = (svc.clock.now(), caller.is_staff());
    db::run(&svc.pool, move |conn| export_in(conn, member, staff, now)).await
}

fn export_in(conn: &mut DbConnection, member: Uuid, staff: bool, now: DateTime<Utc>) -> Result<Value, AppError> {
    let m = members::find(conn, member)?.ok_or_else(|| AppError::NotFound("no member has this id".to_owned()))?;
    let users = accounts::users_of_member(conn, member)?;
    let portals: Vec<Value> = accounts::member_portals(conn, member)?
        .into_iter()
        .map(|(c, at)| json!({"client_id": c.client_id, "name": c.name, "linked_at": timestamp(at)}))
        .collect();
    let filter = suggestions::Filter { member: Some(member), ..suggestions::Filter::default() };
    let mut shown = Vec::new();
    for s in suggestions::list(conn, &filter, 0, i64::MAX - 1)? {
        if staff {
            shown.push(view::for_staff(conn, &s, now, true)?);
        } else if s.status.visible_to_member() {
            shown.push(view::for_member(conn, &s, now)?);
        }
    }
    let mut asked = Vec::new();
    for i in introductions::of_member(conn, member)?.into_iter().filter(|i| i.counterpart == Some(member)) {
        let mut v = json!({
            "id": i.id,
            "status": i.status,
            "requested_at": timestamp(i.requested_at),
            "answered_at": i.answered_at.map(timestamp),
        });
        if staff {
            v["asked_by"] = json!(i.member);
        }
        asked.push(v);
    }
    let digest_filter = DigestFilter { member: Some(member), ..DigestFilter::default() };
    let sent: Vec<Value> =
        digests::list(conn, &digest_filter, 0, i64::MAX - 1)?.iter().map(|d| d.to_json(&[], true)).collect();
    let mut mails = Vec::new();
    for i in introductions::of_member(conn, member)? {
        for msg in messages::of_introduction(conn, &i.id.to_string())? {
            if msg.recipient_list().contains(&m.profile.contact_email.as_str()) {
                mails.push(json!({
                    "id": msg.id,
                    "kind": msg.kind,
                    "subject": msg.subject,
                    "text": msg.text,
                    "status": msg.send_status(),
                    "sent_at": msg.sent_at.map(|t| timestamp(t.and_utc())),
                }));
            }
        }
    }
    // Entries name a member as `member:<id>` or by its id alone, and its accounts as `user:<id>`.
    let mut actors: Vec<String> = users.iter().map(|u| format!("user:{}", u.id)).collect();
    actors.push(format!("member:{member}"));
    let mut targets = actors.clone();
    targets.push(member.to_string());
    let entries: Vec<Value> = audit::about(conn, &targets, &actors)?.iter().map(|e| e.to_json()).collect();
    Ok(json!({
        "format": EXPORT_FORMAT,
        "exported_at": timestamp(now),
        "member": m.to_json(),
        "accounts": users.iter().map(accounts::User::to_json).collect::<Vec<_>>(),
        "portals": portals,
        "suggestions": shown,
        "introductions_asked": asked,
        "digests": sent,
        "messages": mails,
        "audit": entries,
    }))
}
