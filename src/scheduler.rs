//! The in-process scheduler and the jobs it runs: the weekly matching run, the weekly digest, the daily purge of
//! records past their retention, the daily sync of calls from the Funding & Tenders portal, and, once for each
//! shipped vocabulary, stored terms mapped anew; and, on every tick, the webhook deliveries that are due.
//!
//! A job claims its period (`job_runs(job, period)`) with a lease it renews by heartbeat; another instance takes
//! over a lease that ran out and finishes the period's remaining work, within the same ISO week. Each tick (and at
//! start) an instance resumes such abandoned periods; only a scheduled time passing while it runs fires a new one,
//! never the start of an instance itself (but for the vocabulary job, whose period is the release's vocabulary).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use croner::Cron;
use uuid::Uuid;

use crate::clock::SharedClock;
use crate::config::{ReviewSettings, SchedulerSettings};
use crate::db::changes::{self, Entity};
use crate::db::jobs::{self, Claim};
use crate::db::{self, DbError, DbPool, digests, runs};
use crate::digest::outbox::Delivery;
use crate::digest::send::SendError;
use crate::digest::{Digest, IsoWeek, Mailer};
use crate::indexer::{Remapped, Touched, remap_stored};
use crate::review::MatchingRun;
use crate::review::suggest::{self, RunOutcome};

/// Told about each step of a period's work.
pub type Step = Arc<dyn Fn(&str) + Send + Sync>;

/// A name for this instance in leases: host, process, and a random part (a restarted process is a new owner).
pub fn instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}:{}:{}", std::process::id(), &Uuid::new_v4().simple().to_string()[..8])
}

/// The scheduled jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    Matching,
    Digest,
    /// The daily purge of records past their retention.
    Retention,
    /// The daily sync of calls from the Funding & Tenders portal.
    Calls,
    /// Stored terms mapped anew, once for each shipped vocabulary (its fingerprint is the period), so that a new
    /// release's vocabulary reaches profiles saved before it.
    Vocabulary,
}

impl Job {
    pub fn name(self) -> &'static str {
        match self {
            Self::Matching => "matching",
            Self::Digest => "digest",
            Self::Retention => "retention",
            Self::Calls => "calls",
            Self::Vocabulary => "vocabulary",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        match s {
            "matching" => Some(Self::Matching),
            "digest" => Some(Self::Digest),
            "retention" => Some(Self::Retention),
            "calls" => Some(Self::Calls),
            "vocabulary" => Some(Self::Vocabulary),
            _ => None,
        }
    }

    /// The period a time falls in for this job, in time zone `tz`: the ISO week (weekly jobs), or the day (the
    /// daily purge and the daily calls sync, `YYYY-MM-DD`); for the vocabulary job, the shipped vocabulary's
    /// fingerprint whatever the time.
    pub fn period_of(self, t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
        match self {
            Self::Matching | Self::Digest => IsoWeek::of(t, tz).to_string(),
            Self::Retention | Self::Calls => t.with_timezone(&tz).date_naive().to_string(),
            Self::Vocabulary => crate::matching::Vocabulary::shipped_fingerprint().to_owned(),
        }
    }
}

/// What a period's work came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished (by us).
    Finished(String),
    /// Work is left (a retry later, or the lease was lost); the lease was given up.
    Unfinished(String),
    /// Someone else holds it, or it was done already.
    Skipped(String),
}

/// Runs jobs for one instance.
#[derive(Debug)]
pub struct Jobs {
    pub pool: DbPool,
    pub clock: SharedClock,
    pub matcher: Option<Arc<crate::indexer::IndexSync>>,
    pub review: ReviewSettings,
    pub mailer: Mailer,
    pub owner: String,
    pub lease_seconds: i64,
    pub heartbeat: std::time::Duration,
    pub time_zone: chrono_tz::Tz,
    /// How long records are kept (the daily purge).
    pub keep: crate::config::Retention,
    running: Mutex<HashSet<(Job, String)>>,
    /// Set when the process is asked to stop: running periods stop at their next safe point and release their
    /// leases, and no new period starts.
    stopping: AtomicBool,
    /// Delivery passes under way (outside any period), which a shutdown waits for too.
    delivering: std::sync::atomic::AtomicUsize,
    /// Whether this instance runs the scheduler (`MATCHMAKER_SCHEDULER`).
    pub scheduled: bool,
    /// The calls sync's source and which calls are the cluster's (a serving instance's; `None` for the command
    /// line's digest run).
    pub calls: Option<CallsSource>,
    /// The webhooks' sender (a serving instance's; `None` for the command line).
    pub webhooks: Option<Arc<crate::webhook::Sender>>,
    /// Set while a webhook pass started by the scheduler runs: one at a time, beside the ticks.
    webhook_pass: AtomicBool,
}

/// What the calls sync reads from, and which of the calls read are the cluster's.
#[derive(Debug, Clone)]
pub struct CallsSource {
    pub portal: Arc<crate::portal::Portal>,
    pub filter: crate::domain::project::CallFilter,
}

/// Counts a delivery pass as done when dropped (whatever way it ends).
struct Delivering<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Stops the heartbeat when dropped.
struct Beating {
    stop: Arc<AtomicBool>,
}

impl Drop for Beating {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Jobs {
    pub fn new(
        pool: DbPool,
        clock: SharedClock,
        matcher: Option<Arc<crate::indexer::IndexSync>>,
        review: ReviewSettings,
        mailer: Mailer,
        scheduler: &SchedulerSettings,
    ) -> Self {
        Self {
            pool,
            clock,
            matcher,
            review,
            mailer,
            owner: instance_id(),
            lease_seconds: i64::try_from(scheduler.lease.as_secs()).unwrap_or(120),
            heartbeat: scheduler.heartbeat,
            time_zone: scheduler.time_zone,
            keep: scheduler.keep,
            running: Mutex::new(HashSet::new()),
            stopping: AtomicBool::new(false),
            delivering: std::sync::atomic::AtomicUsize::new(0),
            scheduled: scheduler.enabled,
            calls: None,
            webhooks: None,
            webhook_pass: AtomicBool::new(false),
        }
    }

    /// These jobs with the webhooks' sender.
    #[must_use]
    pub fn with_webhooks(mut self, sender: Arc<crate::webhook::Sender>) -> Self {
        self.webhooks = Some(sender);
        self
    }

    /// Post the webhook deliveries that are due, one at a time, each leased to this instance while it is sent.
    pub async fn deliver_webhooks(self: &Arc<Self>) -> anyhow::Result<crate::webhook::send::Sent> {
        let Some(sender) = self.webhooks.clone() else { return Ok(Default::default()) };
        self.delivering.fetch_add(1, Ordering::SeqCst);
        let _done = Delivering(&self.delivering);
        let started = std::time::Instant::now();
        let me = Arc::clone(self);
        let going = move || !me.is_stopping();
        let sent = sender.deliver_due(&self.pool, &self.clock, &self.owner, &going).await?;
        crate::metrics::webhooks(&sent, started.elapsed());
        Ok(sent)
    }

    /// These jobs with the calls sync's source.
    #[must_use]
    pub fn with_calls(mut self, calls: CallsSource) -> Self {
        self.calls = Some(calls);
        self
    }

    /// What a sync run by this instance works with: its index and the calls' source.
    pub fn sync_context(&self) -> Result<crate::portal::SyncContext, DbError> {
        let (Some(index), Some(calls)) = (&self.matcher, &self.calls) else {
            return Err(DbError::Other(anyhow::anyhow!("this process has no calls source or matching index")));
        };
        Ok(crate::portal::SyncContext {
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            vocab: index.matcher.vocabulary(),
            filter: calls.filter.clone(),
            index: Some(index.clone()),
            portal: calls.portal.clone(),
            lease_seconds: self.lease_seconds,
            heartbeat: self.heartbeat,
        })
    }

    /// Start a calls sync now (staff), in the background: its log entry, or the one already running (here or on
    /// another instance), which the caller follows instead.
    pub async fn start_sync(self: &Arc<Self>, requested_by: String) -> Result<crate::db::imports::ImportRow, DbError> {
        let ctx = self.sync_context()?;
        match crate::portal::begin(&ctx, &requested_by).await? {
            crate::db::imports::Begin::Running(row) => Ok(row),
            crate::db::imports::Begin::Started(row) => {
                let started = row.clone();
                tokio::spawn(async move {
                    let _ = crate::portal::run(&ctx, started).await;
                });
                Ok(row)
            }
        }
    }

    /// The day's calls sync: a sync already running (started by staff, or by another instance) covers the day. A
    /// sync that fails ends the day's period all the same (the failure is in the imports log): the next day's sync
    /// covers what this one missed, and a portal that is down is not asked again every tick.
    async fn calls_period(&self, period: &str) -> Result<(bool, String), DbError> {
        let ctx = self.sync_context()?;
        match crate::portal::begin(&ctx, &format!("schedule:{period}")).await? {
            crate::db::imports::Begin::Running(row) => {
                Ok((true, format!("sync {} was running already and covers the day", row.id)))
            }
            crate::db::imports::Begin::Started(row) => {
                let id = row.id.clone();
                Ok(match crate::portal::run(&ctx, row).await {
                    Ok(s) => (
                        true,
                        format!(
                            "sync {id}: {} created, {} updated, {} unchanged, {} withdrawn, {} skipped",
                            s.created,
                            s.updated,
                            s.unchanged,
                            s.withdrawn,
                            s.skipped.len()
                        ),
                    ),
                    Err(e) => (true, format!("sync {id} failed: {e}")),
                })
            }
        }
    }

    /// The ISO week it is now where the schedule lives.
    pub fn current_week(&self) -> IsoWeek {
        IsoWeek::of(self.clock.now(), self.time_zone)
    }

    /// Renew the lease every heartbeat until dropped; `lost` turns true if the lease is gone.
    fn beat(&self, job: Job, period: &str, lost: Arc<AtomicBool>) -> Beating {
        let stop = Arc::new(AtomicBool::new(false));
        let (pool, owner, lease, every) = (self.pool.clone(), self.owner.clone(), self.lease_seconds, self.heartbeat);
        let (period, halt) = (period.to_owned(), stop.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let (o, p) = (owner.clone(), period.clone());
                let renewed =
                    db::run(&pool, move |conn| jobs::heartbeat(conn, job.name(), &p, &o, lease).map_err(DbError::from))
                        .await;
                match renewed {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = job.name(), period, "lease lost: another instance took the period over");
                        lost.store(true, Ordering::SeqCst);
                        break;
                    }
                    Err(e) => tracing::warn!(job = job.name(), period, error = %e, "heartbeat failed; retrying"),
                }
            }
        });
        Beating { stop }
    }

    /// Claim and do one period's work. `reopen` claims a finished period again (manual runs).
    pub async fn run_period(self: &Arc<Self>, job: Job, period: String, reopen: bool) -> anyhow::Result<Outcome> {
        self.run_period_with(job, period, reopen, Arc::new(|_: &str| {})).await
    }

    /// [`Self::run_period`], telling `step` about each digest composed or sent (for a progress display).
    pub async fn run_period_with(
        self: &Arc<Self>,
        job: Job,
        period: String,
        reopen: bool,
        step: Step,
    ) -> anyhow::Result<Outcome> {
        let key = (job, period.clone());
        if self.stopping.load(Ordering::SeqCst) {
            return Ok(Outcome::Skipped("this instance is stopping".to_owned()));
        }
        if !self.running.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone()) {
            return Ok(Outcome::Skipped("already running here".to_owned()));
        }
        let started = std::time::Instant::now();
        let result = self.claimed_run(job, &period, reopen, step).await;
        self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
        let outcome = match &result {
            Ok(Outcome::Finished(_)) => "finished",
            Ok(Outcome::Unfinished(_)) => "unfinished",
            Ok(Outcome::Skipped(_)) => "skipped",
            Err(_) => "failed",
        };
        crate::metrics::job_period(job.name(), outcome, started.elapsed());
        result
    }

    async fn claimed_run(
        self: &Arc<Self>,
        job: Job,
        period: &str,
        reopen: bool,
        step: Step,
    ) -> anyhow::Result<Outcome> {
        let (owner, lease, p) = (self.owner.clone(), self.lease_seconds, period.to_owned());
        let claim = db::run(&self.pool, move |conn| {
            jobs::claim(conn, job.name(), &p, &owner, lease, reopen).map_err(DbError::from)
        })
        .await?;
        match &claim {
            Claim::Started => tracing::info!(job = job.name(), period, owner = %self.owner, "period started"),
            Claim::TookOver { from } => {
                tracing::warn!(job = job.name(), period, from = %from, owner = %self.owner, "took over an abandoned period");
            }
            Claim::Busy { owner } => return Ok(Outcome::Skipped(format!("{owner} holds the lease"))),
            Claim::Done => return Ok(Outcome::Skipped("finished already".to_owned())),
        }
        let lost = Arc::new(AtomicBool::new(false));
        let beating = self.beat(job, period, lost.clone());
        let (me, p, flag) = (Arc::clone(self), period.to_owned(), lost.clone());
        let work = if job == Job::Calls {
            // Mostly waiting on the portal: run on the executor, not on a blocking thread.
            Ok(self.calls_period(period).await)
        } else {
            tokio::task::spawn_blocking(move || {
                let keep_going = || !flag.load(Ordering::SeqCst) && !me.stopping.load(Ordering::SeqCst);
                me.work(job, &p, &keep_going, step.as_ref())
            })
            .await
        };
        drop(beating);
        let (owner, p) = (self.owner.clone(), period.to_owned());
        let outcome = match work {
            Ok(Ok((true, summary))) => {
                db::run(&self.pool, move |conn| jobs::finish(conn, job.name(), &p, &owner).map_err(DbError::from))
                    .await?;
                tracing::info!(job = job.name(), period, %summary, "period finished");
                Outcome::Finished(summary)
            }
            Ok(Ok((false, summary))) => {
                db::run(&self.pool, move |conn| jobs::release(conn, job.name(), &p, &owner).map_err(DbError::from))
                    .await?;
                tracing::info!(job = job.name(), period, %summary, "period left with work to do");
                Outcome::Unfinished(summary)
            }
            Ok(Err(e)) => {
                tracing::error!(job = job.name(), period, error = %e, "period failed; another try will resume it");
                db::run(&self.pool, move |conn| jobs::release(conn, job.name(), &p, &owner).map_err(DbError::from))
                    .await?;
                Outcome::Unfinished(e.to_string())
            }
            Err(e) => anyhow::bail!("the {} job panicked: {e}", job.name()),
        };
        Ok(outcome)
    }

    /// The work of one period, on a blocking thread: (complete?, summary).
    fn work(
        &self,
        job: Job,
        period: &str,
        keep_going: &dyn Fn() -> bool,
        step: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<(bool, String), DbError> {
        let mut conn = self.pool.get()?;
        match job {
            Job::Matching => {
                let Some(sync) = &self.matcher else {
                    return Err(DbError::Other(anyhow::anyhow!("this process has no matching index")));
                };
                let now = self.clock.now();
                let run_id = match period.strip_prefix("run:") {
                    Some(id) => id.to_owned(),
                    None => {
                        let requested_by = format!("schedule:{period}");
                        match runs::find_by_requester(&mut conn, &requested_by)? {
                            Some(r) => r.id,
                            None => runs::insert(&mut conn, &Uuid::now_v7().to_string(), &requested_by, now)?.id,
                        }
                    }
                };
                match suggest::execute(&mut conn, &sync.matcher, &self.review, &run_id, now, keep_going) {
                    Ok(RunOutcome::Finished(c)) => Ok((
                        true,
                        format!("run {run_id}: {} created, {} kept, {} held back", c.created, c.kept, c.held_back),
                    )),
                    Ok(RunOutcome::Interrupted) => Ok((false, "interrupted".to_owned())),
                    Err(e) => {
                        let _ = runs::fail(&mut conn, &run_id, &e.to_string(), now);
                        Err(e)
                    }
                }
            }
            Job::Digest => {
                let week = IsoWeek::parse(period)
                    .ok_or_else(|| DbError::Other(anyhow::anyhow!("`{period}` is not an ISO week")))?;
                let composed = self.mailer.compose_week(&mut conn, week, self.clock.now(), keep_going)?;
                step(&format!("{composed} digests composed for {week}"));
                let clock = self.clock.clone();
                let report = |d: &Digest, r: Result<(), &SendError>| match r {
                    Ok(()) => step(&format!("sent {} to {}", d.id, d.recipient)),
                    Err(e) => step(&format!("not sent {}: {}", d.id, e.message)),
                };
                let d =
                    self.mailer.deliver(&mut conn, Some(week), &self.owner, &|| clock.now(), keep_going, &report)?;
                crate::metrics::mail("digest", d.sent, d.retrying, d.failed);
                let left = digests::pending_in_week(&mut conn, week)?;
                Ok((left == 0 && keep_going(), summary(week, composed, d, left)))
            }
            Job::Retention => {
                let now = self.clock.now();
                let purged = db::write(&mut conn, |conn| crate::db::retention::purge(conn, &self.keep, now))?;
                step(&purged.to_string());
                Ok((true, purged.to_string()))
            }
            Job::Calls => Err(DbError::Other(anyhow::anyhow!("the calls sync runs on the executor"))),
            Job::Vocabulary => {
                let Some(sync) = &self.matcher else {
                    return Err(DbError::Other(anyhow::anyhow!("this process has no matching index")));
                };
                let now = self.clock.now();
                let remapped = db::write(&mut conn, |conn| {
                    let vocab = sync.vocabulary_in(conn).map_err(DbError::Other)?;
                    let remapped = remap_stored(conn, &vocab, &Touched::Release)?;
                    if !remapped.is_empty() {
                        changes::record(conn, Entity::Vocabulary, "release", now)?;
                    }
                    Ok::<_, DbError>(remapped)
                })?;
                if !remapped.is_empty() {
                    sync.reload_all(&mut conn).map_err(DbError::Other)?;
                }
                let summary = vocabulary_summary(period, &remapped);
                step(&summary);
                Ok((true, summary))
            }
        }
    }

    /// Stop for a shutdown: no new period starts, running ones stop at their next safe point (between two digests,
    /// two members of a run) and release their leases, so that another instance takes over at once. Waits for them,
    /// at most `within`; whether all stopped in time.
    pub async fn stop(&self, within: std::time::Duration) -> bool {
        self.stopping.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = self.running.lock().unwrap_or_else(PoisonError::into_inner).len()
                + self.delivering.load(Ordering::SeqCst);
            if left == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(running = left, "stopping: jobs still running; their leases will lapse instead");
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Whether the instance is stopping.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Resume periods whose lease ran out with work left: manual runs, and this week's scheduled periods.
    pub async fn resume_abandoned(self: &Arc<Self>) -> anyhow::Result<()> {
        let stale = db::run(&self.pool, |conn| jobs::abandoned(conn).map_err(DbError::from)).await?;
        let now = self.clock.now();
        for run in stale {
            let Some(job) = Job::from_name(&run.job) else { continue };
            if run.period != job.period_of(now, self.time_zone) && !run.period.starts_with("run:") {
                tracing::warn!(job = %run.job, period = %run.period, "abandoned in a period that is over: not resumed");
                let (job_name, period) = (run.job.clone(), run.period.clone());
                db::run(&self.pool, move |conn| jobs::lapse(conn, &job_name, &period).map_err(DbError::from)).await?;
                continue;
            }
            let me = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(e) = me.run_period(job, run.period.clone(), false).await {
                    tracing::error!(job = job.name(), period = %run.period, error = %e, "could not resume");
                }
            });
        }
        Ok(())
    }

    /// Start a matching run now (staff): its id, while it runs in the background.
    pub async fn start_matching_run(self: &Arc<Self>, requested_by: String) -> Result<MatchingRun, DbError> {
        let now = self.clock.now();
        let id = Uuid::now_v7().to_string();
        let run =
            db::run(&self.pool, move |conn| runs::insert(conn, &id, &requested_by, now).map_err(DbError::from)).await?;
        let me = Arc::clone(self);
        let period = format!("run:{}", run.id);
        tokio::spawn(async move {
            if let Err(e) = me.run_period(Job::Matching, period, false).await {
                tracing::error!(error = %e, "matching run failed");
            }
        });
        Ok(run)
    }

    /// Send whatever is due: messages (consent requests, introductions) at once, and digests of any week (those
    /// staff re-queued, leftovers of a lapsed week) unless a digest period is unfinished: its owner, or whoever
    /// resumes it, sends its week.
    pub async fn deliver_due(self: &Arc<Self>) -> anyhow::Result<Delivery> {
        let me = Arc::clone(self);
        self.delivering.fetch_add(1, Ordering::SeqCst);
        let d = tokio::task::spawn_blocking(move || {
            let _done = Delivering(&me.delivering);
            let mut conn = me.pool.get().map_err(DbError::from)?;
            let clock = me.clock.clone();
            let going = || !me.is_stopping();
            let messages = me.mailer.deliver_messages(&mut conn, &me.owner, &|| clock.now(), &going)?;
            if jobs::unfinished(&mut conn, Job::Digest.name())? {
                return Ok::<_, anyhow::Error>(messages);
            }
            crate::metrics::mail("message", messages.sent, messages.retrying, messages.failed);
            let digests = me.mailer.deliver(&mut conn, None, &me.owner, &|| clock.now(), &going, &|_, _| {})?;
            crate::metrics::mail("digest", digests.sent, digests.retrying, digests.failed);
            Ok(Delivery {
                sent: messages.sent + digests.sent,
                retrying: messages.retrying + digests.retrying,
                failed: messages.failed + digests.failed,
            })
        })
        .await??;
        Ok(d)
    }
}

/// What the vocabulary job did: how many stored terms it mapped anew, of how many members and projects.
fn vocabulary_summary(fingerprint: &str, remapped: &[Remapped]) -> String {
    let holders =
        |kind: &str| remapped.iter().filter(|r| r.holder == kind).map(|r| &r.id).collect::<HashSet<_>>().len();
    format!(
        "vocabulary {fingerprint}: {} stored terms mapped anew ({} members, {} projects)",
        remapped.len(),
        holders("member"),
        holders("project")
    )
}

pub fn summary(week: IsoWeek, composed: usize, d: Delivery, left: i64) -> String {
    format!(
        "{week}: {composed} composed, {} sent, {} to retry, {} failed, {left} still to send",
        d.sent, d.retrying, d.failed
    )
}

/// The next time `cron` fires after `after`, read in `tz`.
fn next_fire(cron: &Cron, after: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false).ok().map(|t| t.with_timezone(&Utc))
}

/// Run the scheduler until the process ends.
pub fn spawn(jobs: Arc<Jobs>, settings: &SchedulerSettings) {
    let settings = settings.clone();
    let mut schedules = vec![
        (Job::Matching, settings.matching.cron().clone()),
        (Job::Digest, settings.digest.cron().clone()),
        (Job::Retention, settings.retention.cron().clone()),
    ];
    if let Some(calls) = &settings.calls {
        schedules.push((Job::Calls, calls.cron().clone()));
    }
    tokio::spawn(async move {
        // A new release's vocabulary reaches the profiles saved before it: its period (the vocabulary's fingerprint)
        // is claimed by the first instance to start with it, and finished once.
        let (me, period) = (Arc::clone(&jobs), Job::Vocabulary.period_of(jobs.clock.now(), settings.time_zone));
        tokio::spawn(async move {
            if let Err(e) = me.run_period(Job::Vocabulary, period, false).await {
                tracing::error!(job = Job::Vocabulary.name(), error = %e, "stored terms not mapped anew");
            }
        });
        let mut last = jobs.clock.now();
        while !jobs.is_stopping() {
            if let Err(e) = jobs.resume_abandoned().await {
                tracing::warn!(error = %e, "could not look for abandoned periods");
            }
            let now = jobs.clock.now();
            for (job, cron) in &schedules {
                if let Some(at) = next_fire(cron, last, settings.time_zone)
                    && at <= now
                {
                    let period = job.period_of(at, settings.time_zone);
                    tracing::info!(job = job.name(), period, "scheduled time reached");
                    let (me, job) = (Arc::clone(&jobs), *job);
                    tokio::spawn(async move {
                        if let Err(e) = me.run_period(job, period, false).await {
                            tracing::error!(job = job.name(), error = %e, "scheduled job failed");
                        }
                    });
                }
            }
            last = now;
            // A pass can take long (slow endpoints, each up to its timeout): it runs beside the ticks, one at a time.
            if !jobs.webhook_pass.swap(true, Ordering::SeqCst) {
                let me = Arc::clone(&jobs);
                tokio::spawn(async move {
                    if let Err(e) = me.deliver_webhooks().await {
                        tracing::warn!(error = %e, "webhook delivery pass failed");
                    }
                    me.webhook_pass.store(false, Ordering::SeqCst);
                });
            }
            if jobs.mailer.settings.smtp_url.is_some()
                && let Err(e) = jobs.deliver_due().await
            {
                tracing::warn!(error = %e, "delivery pass failed");
            }
            tokio::time::sleep(settings.tick).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_fire_in_their_time_zone() {
        let monday = crate::config::Schedule::parse("0 8 * * MON").unwrap().cron().clone();
        let after = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().to_utc();
        let at = next_fire(&monday, after, chrono_tz::Europe::Luxembourg).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-30T07:00:00+00:00", "08:00 in Luxembourg is 07:00 UTC in winter");
        assert_eq!(IsoWeek::of(at, chrono_tz::Europe::Luxembourg).to_string(), "2026-W49");
        let every_second = crate::config::Schedule::parse("* * * * * *").unwrap().cron().clone();
        assert!(next_fire(&every_second, after, chrono_tz::UTC).unwrap() <= after + chrono::TimeDelta::seconds(1));
    }
}
