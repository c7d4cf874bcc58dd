//! Member profiles: create (with idempotent retries), change, delete, read.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AppError, Services, change};
use crate::auth::{Caller, ClientScope};
use crate::db::changes::Entity;
use crate::db::idempotency::{self, StoredResponse};
use crate::db::members::{self, MemberFilter, Visibility};
use crate::db::{self, DbConnection, DbError, accounts};
use crate::domain::member::{Member, MemberDraft};
use crate::domain::version::Precondition;
use crate::matching::resolve::resolve_profile;

/// A create request's `Idempotency-Key`, with a fingerprint of its body.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    /// serde_json's map is ordered, so the same document hashes the same whatever the key order on the wire.
    pub fn new(key: String, body: &serde_json::Value) -> Self {
        Self { key, request_hash: format!("{:x}", Sha256::digest(body.to_string().as_bytes())) }
    }
}

/// What a create ended with: a new member, or (a retry with the same key and body) the first answer.
#[derive(Debug)]
pub enum Created {
    New(Box<Member>),
    Replay(Box<StoredResponse>),
}

impl Created {
    /// The member created, new or by the first request.
    pub fn member_id(&self) -> Option<Uuid> {
        match self {
            Self::New(m) => Some(m.id),
            Self::Replay(stored) => stored_member(stored),
        }
    }
}

pub fn location(id: Uuid) -> String {
    format!("/v1/members/{id}")
}

/// The member a stored create answer is about.
fn stored_member(stored: &StoredResponse) -> Option<Uuid> {
    stored.location.as_deref().and_then(|l| l.rsplit('/').next()).and_then(|id| Uuid::parse_str(id).ok())
}

fn not_found() -> AppError {
    AppError::NotFound("no member has this id".to_owned())
}

/// Whether the caller may read profiles: a write-only portal (`members:write` without `members:read`) gets the id
/// and version of what it wrote back, never the profile.
pub fn reads_members(caller: &Caller) -> bool {
    caller.has_scope(ClientScope::MembersRead)
}

/// One attempt at a create, in one write transaction: a replay of the key, or a new member (linked to the portal
/// that creates it) with the answer stored under the key.
fn attempt(
    conn: &mut DbConnection,
    caller: &Caller,
    draft: &MemberDraft,
    idempotency: Option<&Idempotency>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Created, Option<Uuid>), AppError> {
    let owner = caller.subject();
    if let Some(i) = idempotency
        && let Some(stored) = idempotency::find(conn, &owner, &i.key, now)?
    {
        if stored.request_hash != i.request_hash {
            return Err(AppError::Unprocessable(
                "this Idempotency-Key was already used with a different body; use a new key for a new request"
                    .to_owned(),
            ));
        }
        // A replay answers only what the caller may still see: a portal unlinked since then gets nothing.
        let created = stored_member(&stored).ok_or_else(not_found)?;
        if let Caller::Portal { client_id, .. } = caller
            && !accounts::is_linked(conn, client_id, created)?
        {
            return Err(AppError::NotFound(
                "the member this request created is no longer linked to this portal".into(),
            ));
        }
        return Ok((Created::Replay(Box::new(stored)), None));
    }
    let member = members::insert(conn, draft.clone(), now)?;
    if let Caller::Portal { client_id, .. } = caller {
        accounts::link(conn, client_id, member.id, now)?;
    }
    if let Some(i) = idempotency {
        let stored = StoredResponse {
            owner,
            key: i.key.clone(),
            request_hash: i.request_hash.clone(),
            status: 201,
            body: member.to_json().to_string(),
            location: Some(location(member.id)),
            etag: Some(member.etag()),
            created_at: now.naive_utc(),
        };
        idempotency::insert(conn, &stored, now)?;
    }
    let id = member.id;
    Ok((Created::New(Box::new(member)), Some(id)))
}

/// Create a member from a parsed profile. Its terms are mapped to the vocabulary here.
pub async fn create(
    svc: &Services,
    caller: &Caller,
    mut draft: MemberDraft,
    idempotency: Option<Idempotency>,
) -> Result<Created, AppError> {
    resolve_profile(&svc.index.matcher.vocabulary(), &mut draft).map_err(AppError::Invalid)?;
    let now = svc.clock.now();
    let once = |caller: Caller, draft: MemberDraft, idempotency: Option<Idempotency>| {
        change(svc, Entity::Member, move |conn| attempt(conn, &caller, &draft, idempotency.as_ref(), now))
    };
    match once(caller.clone(), draft.clone(), idempotency.clone()).await {
        // Two requests with the same new key raced and the other stored it first: answer as a retry would.
        Err(AppError::Storage(DbError::Query(e))) if db::is_unique_violation(&e) => {
            once(caller.clone(), draft, idempotency).await
        }
        other => other,
    }
}

/// The member as it is, if the precondition holds.
fn current(conn: &mut DbConnection, id: Uuid, precondition: &Precondition) -> Result<Member, AppError> {
    let member = members::find(conn, id)?.ok_or_else(not_found)?;
    if precondition.holds(&member.etag()) { Ok(member) } else { Err(AppError::Stale) }
}

/// Apply a JSON Merge Patch (RFC 7396) to a member, if the precondition holds. A patch that changes nothing keeps
/// the version (and `ETag`) as they are.
pub async fn update(
    svc: &Services,
    id: Uuid,
    precondition: Precondition,
    patch: serde_json::Value,
) -> Result<Member, AppError> {
    let vocab = svc.index.matcher.vocabulary();
    let now = svc.clock.now();
    change(svc, Entity::Member, move |conn| {
        let member = current(conn, id, &precondition)?;
        let mut draft = member.profile.patched(&patch).map_err(AppError::Invalid)?;
        resolve_profile(&vocab, &mut draft).map_err(AppError::Invalid)?;
        if draft == member.profile {
            return Ok((member, None));
        }
        let updated = members::update(conn, &member, draft, now)?;
        crate::webhook::member_updated(conn, &member, &updated, now)?;
        Ok((updated, Some(id)))
    })
    .await
}

/// Erase a member, if the precondition holds: its rows, and its name wherever others keep something about it
/// (see `privacy::scrub_in`).
pub async fn delete(svc: &Services, id: Uuid, precondition: Precondition) -> Result<(), AppError> {
    change(svc, Entity::Member, move |conn| {
        let member = current(conn, id, &precondition)?;
        crate::app::privacy::scrub_in(conn, &member)?;
        members::delete(conn, &member)?;
        Ok(((), Some(id)))
    })
    .await?;
    db::run(&svc.pool, db::checkpoint).await?;
    tracing::info!(member_id = %id, "member erased");
    Ok(())
}

pub async fn get(svc: &Services, id: Uuid) -> Result<Member, AppError> {
    db::run(&svc.pool, move |conn| members::find(conn, id).map_err(AppError::from)).await?.ok_or_else(not_found)
}

/// A page of the members the caller may see (one more than `limit`): staff all, a member its own organisation, a
/// portal its linked members.
pub async fn list(
    svc: &Services,
    caller: &Caller,
    mut filter: MemberFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Member>, AppError> {
    filter.visible = match caller {
        _ if caller.is_staff() => Visibility::All,
        Caller::Portal { client_id, .. } => Visibility::LinkedTo(client_id.clone()),
        Caller::Person { .. } => match caller.own_member() {
            Some(id) => Visibility::Only(id),
            None => return Err(AppError::Forbidden("this account is not tied to a member organisation".to_owned())),
        },
    };
    if let Some(skill) = &filter.skill {
        filter.skill_concepts = skill_concepts(&svc.index.matcher.vocabulary(), skill);
    }
    db::run(&svc.pool, move |conn| members::list(conn, &filter, after, limit + 1).map_err(AppError::from)).await
}

/// What a skill search means in the vocabulary: the concept the words name (as a profile's term would be mapped)
/// and every concept under it, so that `Sounddesign` finds "sound design" and `design` finds "graphic design".
fn skill_concepts(vocab: &crate::matching::Vocabulary, skill: &str) -> Vec<String> {
    let Some(top) = vocab.normalise(skill).concept else { return Vec::new() };
    let mut found = vec![top];
    let mut i = 0;
    while i < found.len() && found.len() < 500 {
        let below: Vec<_> = vocab.get(found[i]).map(|c| c.narrower.clone()).unwrap_or_default();
        for c in below.into_iter().map(|c| vocab.resolve(c)) {
            if !found.contains(&c) {
                found.push(c);
            }
        }
        i += 1;
    }
    found.into_iter().filter_map(|c| vocab.get(c).map(|c| c.id.clone())).collect()
}
