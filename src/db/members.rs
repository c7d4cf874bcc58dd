//! Member queries. Profile lists that clients filter on (sectors, scopes, terms) live in child tables; the row keeps
//! a folded search column computed in Rust, so both backends answer the same.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{client_members, member_scopes, member_sectors, member_terms, members};
use super::{DbConnection, WriteError};
use crate::domain::fold::{contains_pattern, fold};
use crate::domain::member::{
    DigestFrequency, Member, MemberDraft, MemberStatus, PreferredLanguage, ProfileTerm, Scope, Sector, Size, Term,
    TermKind, mail_language,
};
use crate::domain::parse::ApiEnum;
use crate::domain::term::Resolution;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = members)]
#[diesel(treat_none_as_null = true)]
struct MemberRow {
    id: String,
    name: String,
    description: String,
    website: Option<String>,
    contact_email: String,
    country: String,
    city: Option<String>,
    nace_codes: String,
    size: Option<String>,
    languages: String,
    preferred_language: String,
    digest: String,
    discoverable: bool,
    status: String,
    search_folded: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = member_terms)]
struct TermRow {
    member_id: String,
    kind: String,
    position: i32,
    term: String,
    folded: String,
    strength: Option<i32>,
    concept: Option<String>,
    match_kind: String,
    similarity: Option<f64>,
}

/// Why a conditional write did not happen.
/// Which members a caller may list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Visibility {
    /// Staff: everyone.
    #[default]
    All,
    /// A member account: its own organisation.
    Only(Uuid),
    /// A portal: the members linked to it.
    LinkedTo(String),
}

/// Filters of the member list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub visible: Visibility,
    pub sector: Option<Sector>,
    pub country: Option<String>,
    pub scope: Option<Scope>,
    /// Words that must all appear in the name or description.
    pub q: Option<crate::domain::fold::SearchWords>,
    /// Text that must appear in one of the offers' terms…
    pub skill: Option<String>,
    /// …or concepts one of the offers must have (the skill's concept and those under it): either will do.
    pub skill_concepts: Vec<String>,
}

fn corrupt(what: &str, value: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("stored {what} `{value}` is not valid").into())
}

fn stored_enum<T: ApiEnum>(what: &str, value: &str) -> QueryResult<T> {
    T::from_name(value).ok_or_else(|| corrupt(what, value))
}

fn stored_list(what: &str, value: &str) -> QueryResult<Vec<String>> {
    serde_json::from_str(value).map_err(|_| corrupt(what, value))
}

fn to_row(id: Uuid, d: &MemberDraft, version: i64, created: DateTime<Utc>, updated: DateTime<Utc>) -> MemberRow {
    MemberRow {
        id: id.to_string(),
        name: d.name.clone(),
        description: d.description.clone(),
        website: d.website.clone(),
        contact_email: d.contact_email.clone(),
        country: d.country.clone(),
        city: d.city.clone(),
        nace_codes: serde_json::Value::from(d.nace_codes.clone()).to_string(),
        size: d.size.map(|s| s.as_str().to_owned()),
        languages: serde_json::Value::from(d.languages.clone()).to_string(),
        preferred_language: d.preferred_language.as_str().to_owned(),
        digest: d.digest.as_str().to_owned(),
        discoverable: d.discoverable,
        status: d.status.as_str().to_owned(),
        search_folded: d.search_text(),
        version,
        created_at: created.naive_utc(),
        updated_at: updated.naive_utc(),
    }
}

#[derive(Debug, Default)]
struct Children {
    sectors: Vec<Sector>,
    scopes: Vec<Scope>,
    offers: Vec<ProfileTerm>,
    needs: Vec<ProfileTerm>,
    interests: Vec<ProfileTerm>,
}

fn from_row(row: MemberRow, children: Children) -> QueryResult<Member> {
    let id = Uuid::parse_str(&row.id).map_err(|_| corrupt("id", &row.id))?;
    let mut sectors = children.sectors;
    sectors.sort();
    let mut scopes = children.scopes;
    scopes.sort();
    Ok(Member {
        id,
        profile: MemberDraft {
            name: row.name,
            description: row.description,
            website: row.website,
            contact_email: row.contact_email,
            country: row.country,
            city: row.city,
            sectors,
            nace_codes: stored_list("nace_codes", &row.nace_codes)?,
            size: row.size.as_deref().map(|s| stored_enum::<Size>("size", s)).transpose()?,
            languages: stored_list("languages", &row.languages)?,
            preferred_language: stored_enum::<PreferredLanguage>("preferred_language", &row.preferred_language)?,
            offers: children.offers,
            needs: children.needs,
            interests: children.interests,
            scopes,
            digest: stored_enum::<DigestFrequency>("digest", &row.digest)?,
            discoverable: row.discoverable,
            status: stored_enum::<MemberStatus>("status", &row.status)?,
        },
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn write_children(conn: &mut DbConnection, id: &str, d: &MemberDraft) -> QueryResult<()> {
    // One statement per row: MultiConnection has no batch insert from a Vec.
    for sector in &d.sectors {
        diesel::insert_into(member_sectors::table)
            .values((member_sectors::member_id.eq(id), member_sectors::sector.eq(sector.as_str())))
            .execute(conn)?;
    }
    for scope in &d.scopes {
        diesel::insert_into(member_scopes::table)
            .values((member_scopes::member_id.eq(id), member_scopes::scope.eq(scope.as_str())))
            .execute(conn)?;
    }
    for (kind, position, t) in d.terms() {
        let (term, folded, strength, concept, match_kind, similarity) = t.columns();
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        let (member_id, kind) = (id.to_owned(), kind.as_str().to_owned());
        let row = TermRow { member_id, kind, position, term, folded, strength, concept, match_kind, similarity };
        diesel::insert_into(member_terms::table).values(&row).execute(conn)?;
    }
    Ok(())
}

fn delete_children(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(member_sectors::table.filter(member_sectors::member_id.eq(id))).execute(conn)?;
    diesel::delete(member_scopes::table.filter(member_scopes::member_id.eq(id))).execute(conn)?;
    diesel::delete(member_terms::table.filter(member_terms::member_id.eq(id))).execute(conn)?;
    Ok(())
}

/// A term as stored: its text, strength, concept and how it matched.
pub fn stored_term(
    text: String,
    strength: Option<i32>,
    concept: Option<String>,
    match_kind: &str,
    similarity: Option<f64>,
) -> ProfileTerm {
    let kind = crate::matching::vocabulary::MatchKind::from_stored(match_kind, similarity).name();
    ProfileTerm {
        term: Term::from_stored(text),
        strength: strength.and_then(|s| u8::try_from(s).ok()),
        chosen: if kind == "chosen" { concept.clone() } else { None },
        resolution: Resolution { concept, kind, similarity },
    }
}

/// Store a new member (call inside a write transaction).
pub fn insert(conn: &mut DbConnection, draft: MemberDraft, now: DateTime<Utc>) -> QueryResult<Member> {
    let id = Uuid::now_v7();
    let row = to_row(id, &draft, 1, now, now);
    diesel::insert_into(members::table).values(&row).execute(conn)?;
    write_children(conn, &row.id, &draft)?;
    Ok(Member { id, profile: draft, version: 1, created_at: now, updated_at: now })
}

/// Load members with their lists, keeping the order of `rows`.
fn assemble(conn: &mut DbConnection, rows: Vec<MemberRow>) -> QueryResult<Vec<Member>> {
    let mut children: HashMap<String, Children> = HashMap::new();
    // Chunks keep the IN lists of a full load within every backend's parameter limits.
    for chunk in rows.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(|r| r.id.clone()).collect();
        load_children(conn, &ids, &mut children)?;
    }
    rows.into_iter()
        .map(|row| {
            let c = children.remove(&row.id).unwrap_or_default();
            from_row(row, c)
        })
        .collect()
}

/// The rows of a member child table for `$ids`, selecting `$select`: one member by equality, whose statement the
/// connection keeps prepared (`GET /v1/members/{id}` is the hottest read), several with an `IN` list, whose
/// length varies and which is prepared anew each time.
macro_rules! of_members {
    ($table:ident, $ids:expr, $select:expr) => {
        match $ids {
            [one] => $table::table.filter($table::member_id.eq(one.clone())).select($select).into_boxed(),
            many => $table::table.filter($table::member_id.eq_any(many.to_vec())).select($select).into_boxed(),
        }
    };
}

fn load_children(conn: &mut DbConnection, ids: &[String], children: &mut HashMap<String, Children>) -> QueryResult<()> {
    let sectors: Vec<(String, String)> =
        of_members!(member_sectors, ids, (member_sectors::member_id, member_sectors::sector)).load(conn)?;
    for (id, s) in sectors {
        children.entry(id).or_default().sectors.push(stored_enum("sector", &s)?);
    }
    let scopes: Vec<(String, String)> =
        of_members!(member_scopes, ids, (member_scopes::member_id, member_scopes::scope)).load(conn)?;
    for (id, s) in scopes {
        children.entry(id).or_default().scopes.push(stored_enum("scope", &s)?);
    }
    let terms: Vec<TermRow> = of_members!(member_terms, ids, TermRow::as_select())
        .order((member_terms::member_id, member_terms::kind, member_terms::position))
        .load(conn)?;
    for t in terms {
        let entry = children.entry(t.member_id.clone()).or_default();
        let item = stored_term(t.term, t.strength, t.concept, &t.match_kind, t.similarity);
        match stored_enum::<TermKind>("term kind", &t.kind)? {
            TermKind::Offer => entry.offers.push(item),
            TermKind::Need => entry.needs.push(item),
            TermKind::Interest => entry.interests.push(item),
        }
    }
    Ok(())
}

/// Every member (to build the matching index).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<Member>> {
    let rows = members::table.select(MemberRow::as_select()).order(members::id.asc()).load(conn)?;
    assemble(conn, rows)
}

/// Move stored terms from one concept to another (a vocabulary merge); the members touched.
pub fn move_concept(conn: &mut DbConnection, from: &str, into: &str) -> QueryResult<Vec<String>> {
    let ids: Vec<String> = member_terms::table
        .filter(member_terms::concept.eq(from))
        .select(member_terms::member_id)
        .distinct()
        .load(conn)?;
    diesel::update(member_terms::table.filter(member_terms::concept.eq(from)))
        .set(member_terms::concept.eq(into))
        .execute(conn)?;
    Ok(ids)
}

/// Free terms (no concept yet): member, kind, position, text.
pub fn free_terms(conn: &mut DbConnection) -> QueryResult<Vec<(String, String, i32, String)>> {
    member_terms::table
        .filter(member_terms::concept.is_null())
        .select((member_terms::member_id, member_terms::kind, member_terms::position, member_terms::term))
        .load(conn)
}

/// Give a free term the concept a new synonym explains.
pub fn set_term_concept(
    conn: &mut DbConnection,
    member_id: &str,
    kind: &str,
    position: i32,
    resolution: &Resolution,
) -> QueryResult<usize> {
    diesel::update(member_terms::table.find((member_id, kind, position)))
        .set((
            member_terms::concept.eq(resolution.concept.clone()),
            member_terms::match_kind.eq(resolution.kind),
            member_terms::similarity.eq(resolution.similarity),
        ))
        .execute(conn)
}

/// Each member's preferred language (as stored), by id: what a matching run writes a member's rationales in.
/// The language the service writes to each member in (see [`mail_language`]), by member id.
pub fn mail_languages(conn: &mut DbConnection) -> QueryResult<HashMap<String, &'static str>> {
    let rows = members::table.select((members::id, members::preferred_language, members::languages)).load::<(
        String,
        String,
        String,
    )>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, preferred, languages)| {
            let preferred = PreferredLanguage::from_name(&preferred).unwrap_or(PreferredLanguage::En);
            let languages: Vec<String> = serde_json::from_str(&languages).unwrap_or_default();
            (id, mail_language(preferred, &languages))
        })
        .collect())
}

/// Set a member's digest (the one-click unsubscribe does), as a new version of the member.
pub fn set_digest(
    conn: &mut DbConnection,
    id: Uuid,
    digest: DigestFrequency,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(members::table.find(id.to_string()))
        .set((
            members::digest.eq(digest.as_str()),
            members::version.eq(members::version + 1),
            members::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)
}

/// One member by id.
pub fn find(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<Member>> {
    let row: Option<MemberRow> =
        members::table.find(id.to_string()).select(MemberRow::as_select()).first(conn).optional()?;
    match row {
        Some(row) => Ok(assemble(conn, vec![row])?.pop()),
        None => Ok(None),
    }
}

/// A page of members in id order (ids are UUIDv7, so creation order), after `after`, at most `limit` of them.
pub fn list(conn: &mut DbConnection, f: &MemberFilter, after: Option<Uuid>, limit: i64) -> QueryResult<Vec<Member>> {
    let mut query = members::table.select(MemberRow::as_select()).into_boxed();
    match &f.visible {
        Visibility::All => {}
        Visibility::Only(id) => query = query.filter(members::id.eq(id.to_string())),
        Visibility::LinkedTo(client_id) => {
            let ids = client_members::table
                .filter(client_members::client_id.eq(client_id.clone()))
                .select(client_members::member_id);
            query = query.filter(members::id.eq_any(ids));
        }
    }
    if let Some(after) = after {
        query = query.filter(members::id.gt(after.to_string()));
    }
    if let Some(country) = &f.country {
        query = query.filter(members::country.eq(country.clone()));
    }
    if let Some(sector) = f.sector {
        let ids =
            member_sectors::table.filter(member_sectors::sector.eq(sector.as_str())).select(member_sectors::member_id);
        query = query.filter(members::id.eq_any(ids));
    }
    if let Some(scope) = f.scope {
        let ids = member_scopes::table.filter(member_scopes::scope.eq(scope.as_str())).select(member_scopes::member_id);
        query = query.filter(members::id.eq_any(ids));
    }
    if let Some(q) = &f.q {
        for word in q.words() {
            query = query.filter(members::search_folded.like(contains_pattern(word)).escape('\\'));
        }
    }
    if let Some(skill) = &f.skill {
        let folded = fold(skill);
        let ids = member_terms::table
            .filter(member_terms::kind.eq(TermKind::Offer.as_str()))
            .filter(
                member_terms::folded
                    .like(contains_pattern(&folded))
                    .escape('\\')
                    .or(member_terms::concept.eq_any(f.skill_concepts.clone())),
            )
            .select(member_terms::member_id);
        query = query.filter(members::id.eq_any(ids));
    }
    let rows = query.order(members::id.asc()).limit(limit).load(conn)?;
    assemble(conn, rows)
}

/// Replace a member's profile if it is still at the version it was read at. Call inside a write transaction.
pub fn update(
    conn: &mut DbConnection,
    current: &Member,
    draft: MemberDraft,
    now: DateTime<Utc>,
) -> Result<Member, WriteError> {
    let id = current.id.to_string();
    let version = current.version + 1;
    let row = to_row(current.id, &draft, version, current.created_at, now);
    // The version check is in the write itself: of two racing writers holding the same version, one updates a row
    // and the other none.
    let changed =
        diesel::update(members::table.filter(members::id.eq(&id)).filter(members::version.eq(current.version)))
            .set(&row)
            .execute(conn)?;
    if changed == 0 {
        return Err(WriteError::Stale);
    }
    delete_children(conn, &id)?;
    write_children(conn, &id, &draft)?;
    Ok(Member { id: current.id, profile: draft, version, created_at: current.created_at, updated_at: now })
}

/// Delete a member if it is still at the version it was read at. Call inside a write transaction.
pub fn delete(conn: &mut DbConnection, current: &Member) -> Result<(), WriteError> {
    let key = current.id.to_string();
    delete_children(conn, &key)?;
    let gone = diesel::delete(members::table.filter(members::id.eq(&key)).filter(members::version.eq(current.version)))
        .execute(conn)?;
    if gone == 0 {
        return Err(WriteError::Stale);
    }
    Ok(())
}
