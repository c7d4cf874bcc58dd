//! Keeps an instance's matcher in step with the database: builds the vocabulary (shipped data plus staff edits) and
//! the index at start-up, applies this instance's own writes at once, and polls the change log for other instances'.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use crate::auth::cache::AccountCache;
use crate::db::changes::{self, Entity};
use crate::db::vocabulary::{Holder, StoredTerm};
use crate::db::{self, DbConnection, DbError, DbPool, members, projects, vocabulary};
use crate::matching::model::{Weights, member_profile, project_profile};
use crate::matching::vocabulary::MatchKind;
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

/// A stored term mapped anew.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Remapped {
    /// `member` or `project`, and its id.
    pub holder: &'static str,
    pub id: String,
    /// `offers`, `needs`, `interests`; `required_skills`, `themes`.
    pub list: &'static str,
    pub term: String,
    pub from: Mapping,
    pub to: Mapping,
}

/// How a term maps.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Mapping {
    pub concept: Option<String>,
    #[serde(rename = "match")]
    pub kind: String,
}

/// Which stored terms a change of the vocabulary may map anew beyond those it explains better.
#[derive(Debug, Clone)]
pub enum Touched {
    /// A staff edit: the terms mapped to these concepts (a merge, a synonym taken back).
    Concepts(HashSet<String>),
    /// A new release's vocabulary: free, partial and fuzzy terms, and terms whose concept it no longer has, are read
    /// as a save would read them now (even when that leaves them free: an old release's wrong guess goes); a term
    /// stored with a label keeps its concept unless a label now names another.
    Release,
}

fn list_name(holder: &Holder, list: &str) -> &'static str {
    match (holder, list) {
        (Holder::Member(_), "offer") => "offers",
        (Holder::Member(_), "need") => "needs",
        (Holder::Member(_), _) => "interests",
        (Holder::Project(_), "skill") => "required_skills",
        (Holder::Project(_), _) => "themes",
    }
}

/// The one rule for every change of the vocabulary: a stored term is mapped anew when the new vocabulary explains it
/// better (a more certain kind of match, or a label where it had a typo or nothing), or when the change touched it
/// (see [`Touched`]). A term whose concept the caller chose keeps it, following merges.
pub fn remap(stored: &[StoredTerm], vocab: &Vocabulary, touched: &Touched) -> Vec<(StoredTerm, Mapping, Option<f64>)> {
    let mut out = Vec::new();
    for t in stored {
        let old = MatchKind::from_stored(&t.match_kind, t.similarity);
        let on_touched = match touched {
            Touched::Release => old.certainty() < 3 || t.concept.as_deref().is_some_and(|c| vocab.find(c).is_none()),
            Touched::Concepts(concepts) => t.concept.as_ref().is_some_and(|c| concepts.contains(c)),
        };
        let release = matches!(touched, Touched::Release);
        let (concept, kind) = if old == MatchKind::Chosen {
            let Some(c) = t.concept.as_deref().and_then(|c| vocab.find(c)) else { continue };
            (Some(c), MatchKind::Chosen)
        } else if old.certainty() < 3 || on_touched || release {
            let n = vocab.normalise(&t.text);
            let better = n.kind.certainty() > old.certainty() || n.kind.certainty() == 3;
            if !(better || on_touched) {
                continue;
            }
            (n.concept, n.kind)
        } else {
            continue;
        };
        let id = concept.map(|c| vocab.concept(c).id.clone());
        if id == t.concept && kind.name() == t.match_kind {
            continue;
        }
        out.push((t.clone(), Mapping { concept: id, kind: kind.name().to_owned() }, kind.similarity()));
    }
    out
}

/// Map the stored terms of members and projects anew by [`remap`] with `vocab`, inside the caller's transaction;
/// what changed. The caller records the change for every instance and rebuilds this one's index once committed.
pub fn remap_stored(
    conn: &mut DbConnection,
    vocab: &Vocabulary,
    touched: &Touched,
) -> diesel::QueryResult<Vec<Remapped>> {
    let stored = vocabulary::stored_terms(conn)?;
    let mut remapped = Vec::new();
    for (t, to, similarity) in remap(&stored, vocab, touched) {
        vocabulary::set_term(conn, &t, to.concept.as_deref(), &to.kind, similarity)?;
        let (holder, id) = match &t.holder {
            Holder::Member(id) => ("member", id.clone()),
            Holder::Project(id) => ("project", id.clone()),
        };
        let from = Mapping { concept: t.concept.clone(), kind: t.match_kind.clone() };
        remapped.push(Remapped { holder, id, list: list_name(&t.holder, &t.list), term: t.text, from, to });
    }
    Ok(remapped)
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
