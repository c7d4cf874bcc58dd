//! The accounts and clients behind recent tokens, so that an authenticated request need not read its account from
//! the database every time.
//!
//! A cached account is dropped when it changes: at once on the instance that changed it (after the commit), and on
//! the others when they read the change log (every change to an account writes an `account` entry in its
//! transaction; deleting a member, which deletes its accounts, writes a `member` entry). An entry also lapses after
//! [`TTL`], should the change log be unreadable for a while.
//!
//! A request that reads an account while it is being changed must not put the old state back after the change
//! dropped it: every drop moves an epoch on, and an account read under an older epoch is not kept.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::token::Claims;
use crate::db::accounts::{Client, User};

/// How long a cached account is trusted without news from the change log.
pub const TTL: Duration = Duration::from_secs(60);

/// Beyond this many entries the cache starts afresh (there are rarely as many accounts signed in at once).
const MAX_ENTRIES: usize = 10_000;

/// An account or a client as its tokens are checked against.
#[derive(Debug, Clone)]
pub enum Account {
    User(User),
    Client(Client),
}

impl Account {
    fn member(&self) -> Option<Uuid> {
        match self {
            Self::User(u) => u.member_id,
            Self::Client(_) => None,
        }
    }
}

#[derive(Default)]
pub struct AccountCache {
    entries: RwLock<HashMap<String, (Account, Instant)>>,
    epoch: AtomicU64,
}

impl std::fmt::Debug for AccountCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountCache").field("entries", &self.len()).field("epoch", &self.epoch()).finish()
    }
}

impl AccountCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The account of `subject` (`user:<id>`, `client:<id>`), if cached and fresh.
    pub fn get(&self, subject: &str) -> Option<Account> {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (account, at) = entries.get(subject)?;
        (at.elapsed() < TTL).then(|| account.clone())
    }

    /// Take before reading an account from the database, and give to [`Self::put`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Keep an account read from the database, unless something was dropped since `epoch` (it may be this one).
    pub fn put(&self, subject: &str, account: Account, epoch: u64) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(subject.to_owned(), (account, Instant::now()));
    }

    /// Drop the account of `subject`: it changed.
    pub fn forget(&self, subject: &str) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        entries.remove(subject);
    }

    /// Drop the accounts of a member: it changed or is gone (and its accounts with it).
    pub fn forget_member(&self, member: Uuid) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, (account, _)| account.member() != Some(member));
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Tokens whose signature, issuer and audience were verified, with their claims: the same string always verifies
/// the same way while the process runs (its keys are fixed), so a token used again skips the signature check. Only
/// the validity period is checked each time.
#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<String, Claims>>,
}

/// Never the tokens themselves: they are credentials.
impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.read().map_or(0, |e| e.len());
        f.debug_struct("VerifiedTokens").field("entries", &n).finish()
    }
}

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<Claims> {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(token).cloned()
    }

    pub fn put(&self, token: &str, claims: Claims) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            // Most are expired by then (tokens live minutes): start afresh rather than track ages.
            entries.clear();
        }
        entries.insert(token.to_owned(), claims);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> Account {
        Account::Client(Client {
            client_id: id.to_owned(),
            name: id.to_owned(),
            scopes: Vec::new(),
            disabled: false,
            token_version: 1,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        })
    }

    #[test]
    fn a_read_that_overlaps_a_change_is_not_kept() {
        let cache = AccountCache::new();
        let before = cache.epoch();
        cache.forget("client:a"); // the change commits while the read is under way
        cache.put("client:a", client("a"), before);
        assert!(cache.get("client:a").is_none(), "the state read before the change must not come back");
        let now = cache.epoch();
        cache.put("client:a", client("a"), now);
        assert!(cache.get("client:a").is_some());
        cache.forget("client:a");
        assert!(cache.get("client:a").is_none());
    }
}
