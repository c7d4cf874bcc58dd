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
    let (mut shown, mut histories) = (Vec::new(), Vec::new());
    for s in suggestions::list(conn, &filter, 0, i64::MAX - 1)? {
        if staff {
            shown.push(view::for_staff(conn, &s, now, true)?);
        } else if s.status.visible_to_member() {
            shown.push(view::for_member(conn, &s, now)?);
        } else {
            continue;
        }
        let events: Vec<Value> = suggestions::events(conn, &s.id)?
            .into_iter()
            .map(|e| json!({"field": e.field, "from": e.from_value, "to": e.to_value, "at": timestamp(e.at.and_utc())}))
            .collect();
        histories.push(json!({"suggestion_id": s.id, "events": events}));
    }
    let involved = introductions::of_member(conn, member)?;
    let mut asked = Vec::new();
    for i in involved.iter().filter(|i| i.counterpart == Some(member)) {
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
    for i in &involved {
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
    let hooks: Vec<Value> = crate::db::webhooks::deliveries_about(conn, &member.to_string())?
        .iter()
        .map(crate::app::webhooks::delivery_json)
        .collect();
    Ok(json!({
        "format": EXPORT_FORMAT,
        "exported_at": timestamp(now),
        "member": m.to_json(),
        "accounts": users.iter().map(accounts::User::to_json).collect::<Vec<_>>(),
        "portals": portals,
        "suggestions": shown,
        "histories": histories,
        "introductions_asked": asked,
        "digests": sent,
        "messages": mails,
        "webhook_deliveries": hooks,
        "audit": entries,
    }))
}

/// `text` with every whole-word occurrence of `word` (not inside a longer word) replaced by `by`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    if word.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        let alone = !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        out.push_str(if alone { by } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// A text as the HTML templates escape it (minijinja's HTML escaping).
fn html_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            _ => out.push(c),
        }
    }
    out
}

/// Erase `member` from everything other members keep and from the logs, before its own rows are deleted (in the same
/// write transaction): other members' suggestions about it, their digests and introduction e-mails name "a former
/// member" in their reader's language; the audit log, the suggestions' histories and outcomes keep an opaque
/// pseudonym; stored replies to retried requests that hold it are dropped.
pub fn scrub_in(conn: &mut DbConnection, member: &crate::domain::member::Member) -> Result<(), AppError> {
    use crate::db::erasure::{self, Erased};
    let id = member.id.to_string();
    let users = accounts::users_of_member(conn, member.id)?;
    let mut subjects: Vec<String> = users.iter().map(|u| format!("user:{}", u.id)).collect();
    subjects.extend([format!("member:{id}"), id.clone()]);
    let who = Erased { id: id.clone(), subjects, pseudonym: format!("erased:{}", Uuid::new_v4().simple()) };
    let p = &member.profile;
    // The words that name it: its name, its e-mail and website (as typed and as HTML shows them), its id.
    let mut names: Vec<String> = vec![p.name.clone(), html_escaped(&p.name)];
    let mut contacts: Vec<String> = vec![p.contact_email.clone(), id.clone()];
    if let Some(w) = &p.website {
        contacts.extend([w.clone(), html_escaped(w)]);
    }
    contacts.extend(users.iter().map(|u| u.email.clone()));
    names.retain(|n| n.chars().count() >= 2);
    let needles: Vec<String> = names.iter().chain(&contacts).cloned().collect();
    let pseudonym = who.pseudonym.clone();
    let rewrite = move |text: &str, lang: Option<&str>| {
        let by = lang.map_or_else(|| pseudonym.clone(), crate::digest::render::former_member);
        let mut out = text.to_owned();
        for c in &contacts {
            out = out.replace(c.as_str(), &by);
        }
        for n in &names {
            out = replace_word(&out, n, &by);
        }
        out
    };
    // Other members' suggestion sentences are rewritten in each one's mail language.
    let mut languages = std::collections::HashMap::new();
    for owner in erasure::owners_of_suggestions_about(conn, &id)? {
        if let Some(m) = Uuid::parse_str(&owner).ok().map(|o| crate::db::members::find(conn, o)).transpose()?.flatten()
        {
            let lang = crate::digest::mail_language(m.profile.preferred_language, &m.profile.languages);
            languages.insert(owner, lang.to_owned());
        }
    }
    let carried = erasure::detach_suggestions(conn, &who, &languages, &rewrite)?;
    erasure::rewrite_digests(conn, &carried, &rewrite)?;
    erasure::detach_introductions(conn, &who, &p.contact_email, &rewrite)?;
    // Webhook deliveries about it, or showing it as another member's card, go (the log keeps no trace of it).
    crate::db::webhooks::erase_member(conn, &id)?;
    erasure::pseudonymise_logs(conn, &who, &needles, &rewrite)?;
    erasure::forget_replies(conn, &who, &p.contact_email)?;
    Ok(())
}

/// Erase a member without a server (`matchmaker member erase`): the same erasure as the API's `DELETE`, recorded in
/// the change log so that running instances drop it from their index. Whether there was such a member.
pub async fn erase(store: &crate::app::Store, id: Uuid) -> Result<bool, AppError> {
    let now = store.clock.now();
    db::run(&store.pool, move |conn| {
        let erased = db::write(conn, |conn| {
            let Some(m) = members::find(conn, id)? else { return Ok::<_, AppError>(false) };
            scrub_in(conn, &m)?;
            members::delete(conn, &m)?;
            crate::db::changes::record(conn, crate::db::changes::Entity::Member, &id.to_string(), now)?;
            let event = crate::db::audit::AuditEvent::new("cli", "member.erased", None);
            audit::record(conn, &event, now)?;
            Ok(true)
        })?;
        db::checkpoint(conn)?;
        Ok(erased)
    })
    .await
    .inspect(|_| store.accounts.forget_member(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_replaced_as_whole_words_only() {
        assert_eq!(replace_word("Lumen works with Lumenwerk.", "Lumen", "X"), "X works with Lumenwerk.");
        assert_eq!(replace_word("«Lumen», (Lumen) Lumen", "Lumen", "X"), "«X», (X) X");
        assert_eq!(
            replace_word("Bureau Boréal: Bureau Boréalis", "Bureau Boréal", "un ancien membre"),
            "un ancien membre: Bureau Boréalis"
        );
        assert_eq!(replace_word("nothing", "", "X"), "nothing");
        assert_eq!(html_escaped("Lou & <Co>'s/"), "Lou &amp; &lt;Co&gt;&#x27;s&#x2f;");
    }
}
