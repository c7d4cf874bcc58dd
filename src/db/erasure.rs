//! Erasing a member: before its own rows go (by cascade, with the member row), whatever other members keep that
//! names it is detached or rewritten, and what names it in the logs is pseudonymised. The caller says how a text is
//! rewritten (the words for "a former member" depend on the language of whoever reads it).

use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    audit_log, digests, idempotency_keys, introductions, messages, suggestion_events, suggestion_outcomes, suggestions,
};

/// Who is erased, as the logs and texts name it.
#[derive(Debug, Clone)]
pub struct Erased {
    /// The member's id.
    pub id: String,
    /// What its accounts and itself act as in logs (`user:<id>`, `member:<id>`), and its id alone.
    pub subjects: Vec<String>,
    /// The opaque name the logs keep instead (`erased:<random>`), the same for all of its entries.
    pub pseudonym: String,
}

/// Rewrites a text in the language given (`None`: a log, no reader's language).
pub type Rewrite<'a> = &'a dyn Fn(&str, Option<&str>) -> String;

/// Other members' suggestions about the erased member: kept (their history is theirs), without the link to it, its
/// id in their target, or its name in their sentence. Returns the digests that carried them.
pub fn detach_suggestions(
    conn: &mut DbConnection,
    who: &Erased,
    languages: &std::collections::HashMap<String, String>,
    rewrite: Rewrite<'_>,
) -> QueryResult<Vec<String>> {
    let about: Vec<(String, String, String, String, Option<String>)> = suggestions::table
        .filter(suggestions::partner_id.eq(&who.id))
        .filter(suggestions::member_id.ne(&who.id))
        .select((
            suggestions::id,
            suggestions::member_id,
            suggestions::target,
            suggestions::rationale,
            suggestions::digest_id,
        ))
        .load(conn)?;
    let mut carried = Vec::new();
    for (id, owner, target, rationale, digest) in about {
        let lang = languages.get(&owner).map(String::as_str);
        diesel::update(suggestions::table.filter(suggestions::id.eq(&id)))
            .set((
                suggestions::partner_id.eq(None::<String>),
                suggestions::target.eq(target.replace(&who.id, &who.pseudonym)),
                suggestions::rationale.eq(rewrite(&rationale, lang)),
            ))
            .execute(conn)?;
        carried.extend(digest);
    }
    carried.sort_unstable();
    carried.dedup();
    Ok(carried)
}

/// The members with a suggestion about `member`.
pub fn owners_of_suggestions_about(conn: &mut DbConnection, member: &str) -> QueryResult<Vec<String>> {
    suggestions::table
        .filter(suggestions::partner_id.eq(member))
        .filter(suggestions::member_id.ne(member))
        .select(suggestions::member_id)
        .distinct()
        .load(conn)
}

/// Stored digests (of other members) rewritten in their own language.
pub fn rewrite_digests(conn: &mut DbConnection, ids: &[String], rewrite: Rewrite<'_>) -> QueryResult<usize> {
    let rows: Vec<(String, String, String, String, String)> = digests::table
        .filter(digests::id.eq_any(ids))
        .select((digests::id, digests::language, digests::subject, digests::html, digests::text))
        .load(conn)?;
    for (id, lang, subject, html, text) in &rows {
        let lang = Some(lang.as_str());
        diesel::update(digests::table.filter(digests::id.eq(id)))
            .set((
                digests::subject.eq(rewrite(subject, lang)),
                digests::html.eq(rewrite(html, lang)),
                digests::text.eq(rewrite(text, lang)),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}

/// Introductions the erased member was asked about stay the asking member's, without it; the e-mails that went to
/// it alone go, the others (an introduction to both) are rewritten, its address included.
pub fn detach_introductions(
    conn: &mut DbConnection,
    who: &Erased,
    email: &str,
    rewrite: Rewrite<'_>,
) -> QueryResult<()> {
    let asked: Vec<String> =
        introductions::table.filter(introductions::counterpart_id.eq(&who.id)).select(introductions::id).load(conn)?;
    diesel::update(introductions::table.filter(introductions::id.eq_any(&asked)))
        .set(introductions::counterpart_id.eq(None::<String>))
        .execute(conn)?;
    let sent: Vec<(String, String, String, String, String, String)> = messages::table
        .filter(messages::introduction_id.eq_any(asked.iter().map(|a| Some(a.as_str()))))
        .select((
            messages::id,
            messages::recipients,
            messages::language,
            messages::subject,
            messages::html,
            messages::text,
        ))
        .load(conn)?;
    for (id, recipients, lang, subject, html, text) in sent {
        let others: Vec<&str> = recipients.split(", ").filter(|r| !r.eq_ignore_ascii_case(email)).collect();
        if others.is_empty() {
            diesel::delete(messages::table.filter(messages::id.eq(&id))).execute(conn)?;
            continue;
        }
        let lang = Some(lang.as_str());
        diesel::update(messages::table.filter(messages::id.eq(&id)))
            .set((
                messages::recipients.eq(others.join(", ")),
                messages::subject.eq(rewrite(&subject, lang)),
                messages::html.eq(rewrite(&html, lang)),
                messages::text.eq(rewrite(&text, lang)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A `LIKE` pattern for text containing `needle` (escaped with `\`).
fn contains(needle: &str) -> String {
    format!("%{}%", needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The logs keep what happened, not who: the erased member's subjects become its pseudonym wherever they act or
/// are acted on, and the words that name it (`needles`: its name, addresses, id) leave the entries' details.
pub fn pseudonymise_logs(
    conn: &mut DbConnection,
    who: &Erased,
    needles: &[String],
    rewrite: Rewrite<'_>,
) -> QueryResult<()> {
    let p = &who.pseudonym;
    diesel::update(audit_log::table.filter(audit_log::actor.eq_any(&who.subjects)))
        .set(audit_log::actor.eq(p))
        .execute(conn)?;
    diesel::update(audit_log::table.filter(audit_log::target.eq_any(&who.subjects)))
        .set(audit_log::target.eq(p))
        .execute(conn)?;
    let mut details: Vec<(String, String)> = Vec::new();
    for needle in needles {
        details.extend(
            audit_log::table
                .filter(audit_log::details.like(contains(needle)).escape('\\'))
                .select((audit_log::id, audit_log::details))
                .load::<(String, String)>(conn)?,
        );
    }
    details.sort_unstable();
    details.dedup();
    for (id, d) in details {
        let rewritten = rewrite(&d, None);
        if rewritten != d {
            diesel::update(audit_log::table.filter(audit_log::id.eq(&id)))
                .set(audit_log::details.eq(rewritten))
                .execute(conn)?;
        }
    }
    diesel::update(suggestion_events::table.filter(suggestion_events::actor.eq_any(&who.subjects)))
        .set(suggestion_events::actor.eq(p))
        .execute(conn)?;
    diesel::update(suggestion_outcomes::table.filter(suggestion_outcomes::recorded_by.eq_any(&who.subjects)))
        .set(suggestion_outcomes::recorded_by.eq(p))
        .execute(conn)?;
    Ok(())
}

/// Stored answers to retried requests that hold the member (its accounts' own, or any whose body or address names
/// it): they would answer a replay with its data.
pub fn forget_replies(conn: &mut DbConnection, who: &Erased, email: &str) -> QueryResult<usize> {
    let mut gone =
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::owner.eq_any(&who.subjects))).execute(conn)?;
    for needle in [who.id.as_str(), email] {
        let pattern = contains(needle);
        gone += diesel::delete(
            idempotency_keys::table.filter(
                idempotency_keys::body
                    .like(&pattern)
                    .escape('\\')
                    .or(idempotency_keys::location.like(&pattern).escape('\\')),
            ),
        )
        .execute(conn)?;
    }
    Ok(gone)
}
