//! The calls sync: open and forthcoming calls read from the EU Funding & Tenders portal's search API, each turned
//! into the row a CSV export would have, read and checked exactly as an imported row is, and stored keyed by its
//! `reference` (so the export and the API never create the same call twice).
//!
//! The API is not documented for outside callers; what its public users report is coded for defensively: every
//! metadata value may be an array or missing, one topic may come back as several records (merged: deadlines joined,
//! the next one kept), `status` may stay "open" after the deadline (never read: open or closed follows from the
//! dates, on the service's clock), and single pages fail now and then (each is tried again with back-off; a page
//! that still fails fails the whole sync, which then stores nothing). A call the portal returned before and a
//! successful full sync no longer returns counts a miss; the second closes it as withdrawn.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::clock::SharedClock;
use crate::config::PortalSettings;
use crate::db::changes::{self, Entity};
use crate::db::imports::{self, Begin, ImportRow};
use crate::db::{self, DbConnection, DbError, DbPool, WriteError, projects};
use crate::domain::project::CallFilter;
use crate::import::{self, Prepared, Row, Skipped, Summary};
use crate::indexer::IndexSync;
use crate::matching::Vocabulary;
use crate::outbound::{Limits, Outbound, OutboundError};

/// The imports log's `source` of a sync.
pub const SOURCE: &str = "portal";

/// What is asked: forthcoming and open topics and calls for proposals of the 2021-2027 programmes, in English.
fn query() -> Value {
    json!({"bool": {"must": [
        {"terms": {"type": ["1", "2", "8"]}},
        {"terms": {"status": ["31094501", "31094502"]}},
        {"term": {"programmePeriod": "2021 - 2027"}},
    ]}})
}

/// The metadata fields read (the API answers with all of them when `displayFields` is not given; naming them keeps
/// answers small).
const FIELDS: &[&str] = &[
    "identifier",
    "callIdentifier",
    "title",
    "callTitle",
    "status",
    "startDate",
    "deadlineDate",
    "deadlineModel",
    "frameworkProgramme",
    "typesOfAction",
    "descriptionByte",
    "keywords",
    "budgetOverviewJSONItem",
];

/// The portal's search API, through the service's outbound client.
#[derive(Debug)]
pub struct Portal {
    outbound: Outbound,
    pub settings: PortalSettings,
}

/// The records of a full read of the search, and how many pages it took.
#[derive(Debug, Default)]
pub struct Fetched {
    pub records: Vec<Value>,
    pub pages: u32,
}

impl Portal {
    pub fn new(settings: &PortalSettings) -> Result<Self, OutboundError> {
        let limits = Limits { connect: settings.connect_timeout, total: settings.page_timeout, ..Limits::default() };
        Ok(Self { outbound: Outbound::new(limits)?, settings: settings.clone() })
    }

    fn page_url(&self, page: u32) -> url::Url {
        let mut url = self.settings.source_url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "pageSize" && k != "pageNumber")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("pageSize", &self.settings.page_size.to_string())
            .append_pair("pageNumber", &page.to_string());
        url
    }

    /// One page's answer, parsed, in one try.
    async fn page_once(&self, page: u32) -> Result<Value, String> {
        let json_part = |v: Value| {
            reqwest::multipart::Part::text(v.to_string())
                .mime_str("application/json")
                .unwrap_or_else(|_| unreachable!("a written media type parses"))
        };
        let form = reqwest::multipart::Form::new()
            .part("query", json_part(query()))
            .part("languages", json_part(json!(["en"])))
            .part("sort", json_part(json!({"field": "sortStatus", "order": "ASC"})))
            .part("displayFields", json_part(json!(FIELDS)));
        let request = self.outbound.client().post(self.page_url(page)).multipart(form);
        let body = self.outbound.fetch(request).await.map_err(|e| e.to_string())?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| format!("the answer is not JSON ({e})"))?;
        if !value.get("results").is_some_and(Value::is_array) {
            let keys = value.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "));
            tracing::warn!(page, keys = ?keys, "the search answered a shape without a `results` list");
            return Err("the answer has no `results` list".to_owned());
        }
        Ok(value)
    }

    /// One page, tried again after a doubling wait when it fails.
    async fn page(&self, page: u32) -> Result<Value, String> {
        let mut wait = self.settings.retry_delay;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.page_once(page).await {
                Ok(v) => return Ok(v),
                Err(why) if tries >= self.settings.page_tries => {
                    return Err(format!("page {page} failed {tries} times; the last time: {why}"));
                }
                Err(why) => {
                    tracing::warn!(page, tries, error = %why, wait_ms = wait.as_millis(), "a page failed; trying again");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
            }
        }
    }

    /// Every record the search returns: pages from 1 until one comes back short or empty, or `totalResults` are
    /// read. Fails when a page still fails after its tries, or when the search goes on past the page cap: either
    /// way the sync is not a full one and must not be read as one.
    pub async fn fetch(&self) -> Result<Fetched, String> {
        let mut out = Fetched::default();
        let size = usize::try_from(self.settings.page_size).unwrap_or(100);
        for page in 1..=self.settings.max_pages {
            let value = self.page(page).await?;
            out.pages = page;
            let results = value.get("results").and_then(Value::as_array).cloned().unwrap_or_default();
            let n = results.len();
            out.records.extend(results);
            let total = value.get("totalResults").and_then(Value::as_u64);
            let done = n == 0 || n < size || total.is_some_and(|t| out.records.len() as u64 >= t);
            if done {
                return Ok(out);
            }
        }
        Err(format!(
            "the search returned more than {} pages of {size}: not a full read, nothing stored",
            self.settings.max_pages
        ))
    }
}

/// A metadata value's texts: the API writes every value as an array (of strings, sometimes numbers), but a bare
/// value is taken too; anything else is logged and ignored.
fn texts(reference: &str, metadata: &serde_json::Map<String, Value>, key: &str) -> Vec<String> {
    fn one(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match metadata.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let out: Vec<String> = items.iter().filter_map(one).collect();
            if out.len() < items.iter().filter(|v| !v.is_null()).count() {
                tracing::warn!(reference, key, "a metadata list holds values other than text; those are ignored");
            }
            out
        }
        Some(v) => {
            let out: Vec<String> = one(v).into_iter().collect();
            if out.is_empty() {
                tracing::warn!(reference, key, "a metadata value of an unknown shape is ignored");
            }
            out
        }
    }
}

/// The smallest and largest contribution a topic's budget overview names (a JSON document in a string, read if it
/// parses): `budgetTopicActionMap` → lists of actions with `minContribution` and `maxContribution`.
fn budget(raw: &str) -> (Option<f64>, Option<f64>) {
    let Ok(v) = serde_json::from_str::<Value>(raw) else { return (None, None) };
    let mut min: Option<f64> = None;
    let mut max: Option<f64> = None;
    let actions = v.get("budgetTopicActionMap").and_then(Value::as_object).into_iter().flat_map(|m| m.values());
    for action in actions.filter_map(Value::as_array).flatten() {
        let number = |k: &str| action.get(k).and_then(|n| n.as_f64().or_else(|| n.as_str()?.trim().parse().ok()));
        if let Some(n) = number("minContribution").filter(|n| n.is_finite() && *n >= 0.0) {
            min = Some(min.map_or(n, |m| m.min(n)));
        }
        if let Some(n) = number("maxContribution").filter(|n| n.is_finite() && *n >= 0.0) {
            max = Some(max.map_or(n, |m| m.max(n)));
        }
    }
    (min, max)
}

/// One call read from the records sharing its reference: the first text of each field found, every deadline.
#[derive(Debug, Default)]
struct Merged {
    position: usize,
    fields: HashMap<&'static str, String>,
    deadlines: Vec<DateTime<Utc>>,
    starts: Vec<DateTime<Utc>>,
    bad: Option<String>,
}

/// The records as export rows, one per reference (records sharing one are one call), the references the search
/// returned (for withdrawals), and the records that could not be read with why.
#[derive(Debug, Default)]
pub struct Rows {
    pub rows: Vec<Row>,
    pub returned: HashSet<String>,
    pub skipped: Vec<Skipped>,
}

/// Turn the search's records into the rows `import::row_to_draft` reads, as the export's columns: `identifier`,
/// `title`, `reference`, `deadline` (the next of all the topic's cut-offs on `now`), `start_date`, `description`
/// (the HTML `descriptionByte`), `budget_min`, `budget_max` and `action_type`.
pub fn to_rows(records: &[Value], now: DateTime<Utc>) -> Rows {
    let mut out = Rows::default();
    let mut merged: Vec<(String, Merged)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        let position = i + 1;
        let skip =
            |reason: &str, reference: Option<String>| Skipped { row: position, reference, reason: reason.to_owned() };
        let Some(object) = record.as_object() else {
            tracing::warn!(position, "a search result that is not an object is skipped");
            out.skipped.push(skip("the record is not a JSON object", None));
            continue;
        };
        let empty = serde_json::Map::new();
        let metadata = match object.get("metadata") {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => &empty,
            Some(_) => {
                tracing::warn!(position, "a search result whose `metadata` is not an object: read without it");
                &empty
            }
        };
        let reference = match object.get("reference") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => match texts("", metadata, "reference").into_iter().find(|s| !s.trim().is_empty()) {
                Some(r) => r.trim().to_owned(),
                None => {
                    tracing::warn!(position, "a search result without a reference is skipped");
                    out.skipped.push(skip("the record has no reference", None));
                    continue;
                }
            },
        };
        let reference: String = reference.chars().take(import::REFERENCE_MAX + 1).collect();
        out.returned.insert(reference.clone());
        let slot = *at.entry(reference.clone()).or_insert_with(|| {
            merged.push((reference.clone(), Merged { position, ..Merged::default() }));
            merged.len() - 1
        });
        let call = &mut merged[slot].1;
        let get = |key: &str| {
            texts(&reference, metadata, key).into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
        };
        let first = |keys: &[&str]| keys.iter().find_map(|k| get(k).next());
        let mut put = |field: &'static str, value: Option<String>| {
            if let Some(v) = value {
                call.fields.entry(field).or_insert(v);
            }
        };
        put("identifier", first(&["identifier", "callIdentifier"]));
        put("title", first(&["title", "callTitle"]));
        put("description", first(&["descriptionByte"]));
        put("action_type", Some(get("typesOfAction").collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty()));
        if let Some(raw) = first(&["budgetOverviewJSONItem"]) {
            let (min, max) = budget(&raw);
            put("budget_min", min.map(|n| n.to_string()));
            put("budget_max", max.map(|n| n.to_string()));
        }
        for (key, into) in [("deadlineDate", &mut call.deadlines), ("startDate", &mut call.starts)] {
            for raw in get(key) {
                match import::brussels(&raw) {
                    Some(d) => into.push(d),
                    None => {
                        tracing::warn!(reference, key, value = %raw, "a date that cannot be read");
                        call.bad.get_or_insert_with(|| format!("{key}: `{raw}` is not a date-time"));
                    }
                }
            }
        }
    }
    for (reference, call) in merged {
        if let Some(reason) = call.bad {
            out.skipped.push(Skipped { row: call.position, reference: Some(reference), reason });
            continue;
        }
        let mut row: HashMap<String, String> = call.fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        row.insert("reference".to_owned(), reference);
        if let Some(d) = import::next_cutoff(&call.deadlines, now) {
            row.insert("deadline".to_owned(), d.to_rfc3339());
        }
        if let Some(s) = call.starts.iter().min() {
            row.insert("start_date".to_owned(), s.to_rfc3339());
        }
        out.rows.push((call.position, row));
    }
    out
}

/// What a sync works with.
#[derive(Debug, Clone)]
pub struct SyncContext {
    pub pool: DbPool,
    pub clock: SharedClock,
    pub vocab: Arc<Vocabulary>,
    pub filter: CallFilter,
    /// This instance's index, refreshed after a sync that changed calls (none for the command line).
    pub index: Option<Arc<IndexSync>>,
    pub portal: Arc<Portal>,
    /// A running sync's lease on its log entry, and how often it is renewed.
    pub lease_seconds: i64,
    pub heartbeat: Duration,
}

/// Why a sync stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The search could not be read in full.
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Storage(#[from] DbError),
}

/// How the store step ends: stored, or rolled back on purpose (a dry run) with what it would have done.
#[derive(Debug, thiserror::Error)]
enum StoreEnd {
    #[error("dry run")]
    DryRun(Box<Summary>),
    #[error("{0}")]
    Lost(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl From<crate::db::QueryError> for StoreEnd {
    fn from(e: crate::db::QueryError) -> Self {
        Self::Write(WriteError::Db(DbError::from(e)))
    }
}

/// A failed write as a storage error (a sync's writes are never guarded by a version the caller gave).
fn storage(e: WriteError) -> SyncError {
    match e {
        WriteError::Db(e) => SyncError::Storage(e),
        WriteError::Stale => SyncError::Storage(DbError::Other(anyhow::anyhow!("a call changed while it was synced"))),
    }
}

/// Log a sync as started, unless one is running already (on any instance).
pub async fn begin(ctx: &SyncContext, requested_by: &str) -> Result<Begin, DbError> {
    let (by, started, lease) = (requested_by.to_owned(), ctx.clock.now(), ctx.lease_seconds);
    db::run(&ctx.pool, move |conn| imports::begin(conn, SOURCE, &by, started, lease).map_err(DbError::from)).await
}

/// Renews a running sync's lease until dropped.
struct Renewing(Arc<AtomicBool>);

impl Drop for Renewing {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn renew(ctx: &SyncContext, id: &str) -> Renewing {
    let stop = Arc::new(AtomicBool::new(false));
    let (pool, id, lease, every, halt) =
        (ctx.pool.clone(), id.to_owned(), ctx.lease_seconds, ctx.heartbeat, stop.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if halt.load(Ordering::SeqCst) {
                break;
            }
            let i = id.clone();
            match db::run(&pool, move |conn| imports::renew(conn, &i, lease).map_err(DbError::from)).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => tracing::warn!(sync = %id, error = %e, "could not renew the sync's lease; retrying"),
            }
        }
    });
    Renewing(stop)
}

/// Fetch every page and read the records: the rows to store (checked), the references returned, the summary so far.
async fn read(ctx: &SyncContext) -> Result<(Prepared, HashSet<String>), SyncError> {
    let fetched = ctx.portal.fetch().await.map_err(SyncError::Source)?;
    let now = ctx.clock.now();
    let (vocab, filter) = (ctx.vocab.clone(), ctx.filter.clone());
    let records = fetched.records;
    let (prepared, returned) = tokio::task::spawn_blocking(move || {
        let rows = to_rows(&records, now);
        let mut prepared = import::prepare_rows(rows.rows, &vocab, &filter, now, |_, _| {});
        prepared.summary.rows = records.len();
        prepared.summary.skipped.extend(rows.skipped);
        prepared.summary.skipped.sort_by_key(|s| s.row);
        (prepared, rows.returned)
    })
    .await
    .map_err(|e| SyncError::Storage(DbError::Other(anyhow::anyhow!("the sync's reading task failed: {e}"))))?;
    tracing::info!(pages = fetched.pages, records = prepared.summary.rows, calls = prepared.rows.len(), "search read");
    Ok((prepared, returned))
}

/// Store what a full read returned, in one write transaction: every call upserted and marked seen, the calls it no
/// longer returns counted (closed at the second miss), and `finish` run last (the log entry).
fn store(
    conn: &mut DbConnection,
    prepared: Prepared,
    returned: &HashSet<String>,
    now: DateTime<Utc>,
    finish: impl FnOnce(&mut DbConnection, &Summary) -> Result<(), StoreEnd>,
) -> Result<(Summary, Vec<uuid::Uuid>), StoreEnd> {
    db::write(conn, |conn| {
        let Prepared { rows, mut summary } = prepared;
        let mut changed = import::upsert_all(conn, rows, &mut summary, now, |conn, id| {
            projects::portal_seen(conn, id, now)?;
            Ok(())
        })?;
        for call in projects::portal_tracked(conn, now)? {
            if returned.contains(&call.reference) {
                continue;
            }
            let missed = call.missed.saturating_add(1);
            if missed < 2 {
                projects::portal_missed(conn, call.id, missed)?;
                summary.missing += 1;
                continue;
            }
            let Some(project) = projects::find(conn, call.id)? else { continue };
            let mut draft = project.draft.clone();
            draft.closed = true;
            projects::replace(conn, &project, draft, now)?;
            projects::portal_missed(conn, call.id, missed)?;
            changes::record(conn, Entity::Project, &call.id.to_string(), now)?;
            tracing::info!(reference = %call.reference, "a call the portal no longer returns is closed as withdrawn");
            summary.withdrawn += 1;
            changed.push(call.id);
        }
        finish(conn, &summary)?;
        Ok((summary, changed))
    })
}

/// Run a sync logged as `row` (from [`begin`]): read the whole search, then store it and finish the log entry in
/// one transaction, and refresh this instance's index. A failure stores nothing and is logged with why.
pub async fn run(ctx: &SyncContext, row: ImportRow) -> Result<Summary, SyncError> {
    let _renewing = renew(ctx, &row.id);
    let result = run_logged(ctx, &row).await;
    match &result {
        Ok(s) => {
            crate::metrics::calls_sync("done");
            tracing::info!(
                sync = %row.id, created = s.created, updated = s.updated, unchanged = s.unchanged,
                missing = s.missing, withdrawn = s.withdrawn, skipped = s.skipped.len(), "calls synced"
            );
        }
        Err(e) => {
            crate::metrics::calls_sync("failed");
            // The portal failing is not this service's fault: a warning (the imports log and the metric keep it).
            match e {
                SyncError::Source(_) => {
                    tracing::warn!(sync = %row.id, error = %e, "the calls sync failed; nothing of it is stored");
                }
                SyncError::Storage(_) => {
                    tracing::error!(sync = %row.id, error = %e, "the calls sync failed; nothing of it is stored");
                }
            }
            let (id, why, finished) = (row.id.clone(), e.to_string(), ctx.clock.now());
            let logged =
                db::run(&ctx.pool, move |conn| imports::finish(conn, &id, finished, Err(why)).map_err(DbError::from))
                    .await;
            if let Err(log_error) = logged {
                tracing::error!(error = %log_error, "a failed sync could not be logged");
            }
        }
    }
    result
}

async fn run_logged(ctx: &SyncContext, row: &ImportRow) -> Result<Summary, SyncError> {
    let (prepared, returned) = read(ctx).await?;
    let (now, id, index) = (ctx.clock.now(), row.id.clone(), ctx.index.clone());
    db::run(&ctx.pool, move |conn| {
        let finish = |conn: &mut DbConnection, summary: &Summary| {
            let logged = serde_json::to_string(summary).map_err(|e| WriteError::Db(anyhow::anyhow!(e).into()))?;
            if imports::finish(conn, &id, now, Ok(logged))? {
                Ok(())
            } else {
                Err(StoreEnd::Lost("the sync's lease ran out and it was judged abandoned".to_owned()))
            }
        };
        let (summary, changed) = match store(conn, prepared, &returned, now, finish) {
            Ok(done) => done,
            Err(StoreEnd::Write(e)) => return Err(storage(e)),
            Err(other) => return Err(SyncError::Source(other.to_string())),
        };
        if let Some(index) = &index {
            for id in changed {
                index.refresh(conn, Entity::Project, id).map_err(DbError::Other)?;
            }
        }
        Ok(summary)
    })
    .await
}

/// What a sync would do now, stored nowhere: the search read in full, and the store step run in a transaction that
/// is rolled back.
pub async fn dry_run(ctx: &SyncContext) -> Result<Summary, SyncError> {
    let (prepared, returned) = read(ctx).await?;
    let now = ctx.clock.now();
    db::run(&ctx.pool, move |conn| {
        match store(conn, prepared, &returned, now, |_, s| Err(StoreEnd::DryRun(Box::new(s.clone())))) {
            Err(StoreEnd::DryRun(summary)) => Ok(*summary),
            Ok((summary, _)) => Ok(summary),
            Err(StoreEnd::Write(e)) => Err(storage(e)),
            Err(other) => Err(SyncError::Source(other.to_string())),
        }
    })
    .await
}

impl From<DbError> for StoreEnd {
    fn from(e: DbError) -> Self {
        Self::Write(WriteError::Db(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_sharing_a_reference_are_one_call() {
        let now = import::brussels("2026-01-10T12:00:00").unwrap();
        let records = vec![
            json!({"reference": "R1", "metadata": {"identifier": ["CREA-X-01"], "title": ["Call"], "deadlineDate": ["2026-01-05T17:00:00.000+0100"]}}),
            json!({"reference": "R1", "metadata": {"deadlineDate": "2026-03-05T17:00:00.000+0100", "descriptionByte": ["<p>Text</p>"]}}),
            json!({"reference": "R2", "metadata": {"title": ["No date"], "deadlineDate": ["soon"]}}),
            json!("not an object"),
            json!({"metadata": {"title": ["No reference"]}}),
            json!({"reference": "R3", "metadata": {"title": "Bare value", "typesOfAction": [["nested"], 7]}}),
        ];
        let rows = to_rows(&records, now);
        assert_eq!(rows.rows.len(), 2, "{rows:?}");
        let r1 = &rows.rows[0].1;
        assert_eq!(r1["deadline"], "2026-03-05T16:00:00+00:00", "the next cut-off of the merged ones");
        assert_eq!(r1["description"], "<p>Text</p>");
        assert_eq!(rows.rows[1].1["title"], "Bare value");
        assert_eq!(rows.rows[1].1["action_type"], "7");
        assert_eq!(rows.skipped.len(), 3, "{:?}", rows.skipped);
        assert!(rows.returned.contains("R2"), "a record that cannot be read still says its call was returned");
    }

    #[test]
    fn budgets_are_read_when_they_parse() {
        let raw = r#"{"budgetTopicActionMap":{"1":[{"minContribution":500000,"maxContribution":"1000000"}],"2":[{"minContribution":200000}]}}"#;
        assert_eq!(budget(raw), (Some(200_000.0), Some(1_000_000.0)));
        assert_eq!(budget("not json"), (None, None));
        assert_eq!(budget("[]"), (None, None));
    }
}
