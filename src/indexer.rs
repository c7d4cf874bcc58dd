//! Keeps an instance's matcher in step with the database: builds the vocabulary (shipped data plus staff edits) and
//! the index at start-up, applies this instance's own writes at once, and polls the change log for other instances'.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use uuid::Uuid;

use crate::auth::cache::AccountCache;
use crate::db::changes::{self, Entity};
use crate::db::{self, DbConnection, DbError, DbPool, members, projects, vocabulary};
use crate::matching::model::{Weights, member_profile, project_profile};
use crate::matching::{MatchIndex, Matcher, Vocabulary};

/// The shipped vocabulary with the staff's synonyms and merges applied (shared as it is when there are none).
pub fn load_vocabulary(conn: &mut DbConnection, threshold: f64) -> anyhow::Result<Arc<Vocabulary>> {
    let shipped = Vocabulary::shipped_shared()?;
    if !vocabulary::has_overlays(conn)? && (shipped.fuzzy_threshold - threshold).abs() < f64::EPSILON {
        return Ok(shipped);
    }
    let mut v = (*shipped).clone();
    v.fuzzy_threshold = threshold;
    vocabulary::apply_overlays(conn, &mut v)?;
    Ok(Arc::new(v))
}

/// Build the whole index from the database.
pub fn load_index(conn: &mut DbConnection, vocab: &Vocabulary, weights: Weights) -> Result<MatchIndex, DbError> {
    let mut index = MatchIndex::new(weights, vocab.len());
    for m in members::all(conn)? {
        index.upsert_member(member_profile(vocab, &m));
    }
    for p in projects::all(conn)? {
        index.upsert_project(project_profile(vocab, &p));
    }
    Ok(index)
}

/// The matcher and where this instance has read the change log up to.
///
/// Requests apply their own writes and the poller applies everyone's, on different threads. Each update reads the
/// database and then installs what it read; `apply` makes read-then-install one step. Without it a slow update
/// that read before a commit could install its older copy over a newer one read after, and the instance would
/// serve a vocabulary without a synonym or merge it had just acknowledged, until the next vocabulary change.
#[derive(Debug)]
pub struct IndexSync {
    pub matcher: Arc<Matcher>,
    seen: AtomicI64,
    threshold: f64,
    apply: Mutex<()>,
    /// Accounts this instance has cached: the change log says when one changed elsewhere.
    accounts: Arc<AccountCache>,
}

impl IndexSync {
    /// Read the change log position first, then load: whatever changes meanwhile is applied again by the poller.
    pub fn start(pool: &DbPool, threshold: f64, weights: Weights, accounts: Arc<AccountCache>) -> anyhow::Result<Self> {
        let mut conn = pool.get().map_err(DbError::from)?;
        let seen = changes::current(&mut conn)?;
        let vocab = load_vocabulary(&mut conn, threshold)?;
        let index = load_index(&mut conn, &vocab, weights)?;
        tracing::info!(
            concepts = vocab.len(),
            labels = vocab.label_count(),
            members = index.member_count(),
            projects = index.project_count(),
            "matching index built"
        );
        Ok(Self {
            matcher: Arc::new(Matcher::new(vocab, index)),
            seen: AtomicI64::new(seen),
            threshold,
            apply: Mutex::new(()),
            accounts,
        })
    }

    /// How far this instance has read the change log.
    pub fn seen(&self) -> i64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// Held from reading the database to installing what was read. It guards no data, so a panic elsewhere
    /// while holding it leaves nothing half-done to refuse.
    fn one_at_a_time(&self) -> MutexGuard<'_, ()> {
        self.apply.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Re-read one member into the index (or drop it).
    pub fn refresh_member(&self, conn: &mut DbConnection, id: Uuid) -> Result<(), DbError> {
        let _turn = self.one_at_a_time();
        let vocab = self.matcher.vocabulary();
        let found = members::find(conn, id)?;
        let mut index = self.matcher.write_index();
        match found {
            Some(m) => index.upsert_member(member_profile(&vocab, &m)),
            None => index.remove_member(id),
        }
        Ok(())
    }

    pub fn refresh_project(&self, conn: &mut DbConnection, id: Uuid) -> Result<(), DbError> {
        let _turn = self.one_at_a_time();
        let vocab = self.matcher.vocabulary();
        let found = projects::find(conn, id)?;
        let mut index = self.matcher.write_index();
        match found {
            Some(p) => index.upsert_project(project_profile(&vocab, &p)),
            None => index.remove_project(id),
        }
        Ok(())
    }

    /// Re-read one changed member or project (a vocabulary change rebuilds everything: see [`Self::reload_all`]).
    pub fn refresh(&self, conn: &mut DbConnection, entity: Entity, id: Uuid) -> anyhow::Result<()> {
        match entity {
            Entity::Member => Ok(self.refresh_member(conn, id)?),
            Entity::Project => Ok(self.refresh_project(conn, id)?),
            Entity::Vocabulary => self.reload_all(conn),
            Entity::Account => Ok(()),
        }
    }

    /// The vocabulary as the database has it now (shipped data and the staff's edits), with this instance's fuzzy
    /// threshold: what a staff edit is judged with before the live one is rebuilt.
    pub fn vocabulary_in(&self, conn: &mut DbConnection) -> anyhow::Result<Arc<Vocabulary>> {
        load_vocabulary(conn, self.threshold)
    }

    /// Rebuild vocabulary and index (after a vocabulary change).
    pub fn reload_all(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        self.reload_all_then(conn, || {})
    }

    /// [`Self::reload_all`], calling `before_install` between reading the database and installing what it read:
    /// lets a test hold one reload at the point where a concurrent one could overtake it.
    #[doc(hidden)]
    pub fn reload_all_then(&self, conn: &mut DbConnection, before_install: impl FnOnce()) -> anyhow::Result<()> {
        let _turn = self.one_at_a_time();
        let vocab = load_vocabulary(conn, self.threshold)?;
        let weights = self.matcher.read_index().weights;
        let index = load_index(conn, &vocab, weights)?;
        before_install();
        self.matcher.set_vocabulary(vocab);
        *self.matcher.write_index() = index;
        Ok(())
    }

    /// Apply every change logged since the last poll.
    pub fn poll(&self, conn: &mut DbConnection) -> anyhow::Result<usize> {
        let mut applied = 0;
        loop {
            let batch = changes::since(conn, self.seen.load(Ordering::SeqCst), 1000)?;
            if batch.is_empty() {
                return Ok(applied);
            }
            // Cached accounts first: a changed account, or a changed or deleted member's (its accounts go with it).
            for (_, entity, id) in &batch {
                match entity {
                    Entity::Account => self.accounts.forget(id),
                    Entity::Member => {
                        if let Ok(member) = Uuid::parse_str(id) {
                            self.accounts.forget_member(member);
                        }
                    }
                    Entity::Project | Entity::Vocabulary => {}
                }
            }
            let vocabulary_changed = batch.iter().any(|(_, e, _)| *e == Entity::Vocabulary);
            if vocabulary_changed {
                self.reload_all(conn)?;
            } else {
                for (_, entity, id) in &batch {
                    if let Ok(id) = Uuid::parse_str(id) {
                        self.refresh(conn, *entity, id)?;
                    }
                }
            }
            applied += batch.len();
            if let Some((seq, _, _)) = batch.last() {
                self.seen.fetch_max(*seq, Ordering::SeqCst);
            }
        }
    }
}

/// Poll the change log every `every` until the process ends.
pub fn spawn_poller(sync: Arc<IndexSync>, pool: DbPool, every: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let s = sync.clone();
            let result = db::run::<_, anyhow::Error, _>(&pool, move |conn| s.poll(conn)).await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not read the change log");
            }
        }
    });
}
