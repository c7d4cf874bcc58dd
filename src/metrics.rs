//! Metrics in the Prometheus text format, served on a listener of their own (`MATCHMAKER_METRICS_ADDR`, off unless
//! set), never on the API's: request counts and latencies by route template and status, job periods by outcome and
//! their durations, mail sent and failed, and, read at each scrape, the index's size, the pool's use and how far this
//! instance is behind the change log.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

/// The service's metrics, registered once per process.
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub job_periods: IntCounterVec,
    pub job_seconds: HistogramVec,
    pub mail: IntCounterVec,
    pub calls_syncs: IntCounterVec,
    pub webhooks: IntCounterVec,
    pub webhook_seconds: HistogramVec,
    gauges: IntGaugeVec,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("matchmaker".to_owned()), None)?;
    let requests = IntCounterVec::new(
        Opts::new("http_requests_total", "HTTP requests answered, by route template, method and status"),
        &["route", "method", "status"],
    )?;
    let request_seconds = HistogramVec::new(
        HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request, by route template")
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        &["route", "method"],
    )?;
    let job_periods = IntCounterVec::new(
        Opts::new("job_periods_total", "Job periods run here, by job and outcome (finished, unfinished, skipped)"),
        &["job", "outcome"],
    )?;
    let job_seconds = HistogramVec::new(
        HistogramOpts::new("job_period_duration_seconds", "How long a job period ran here")
            .buckets(vec![0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0]),
        &["job"],
    )?;
    let mail = IntCounterVec::new(
        Opts::new("mail_total", "E-mails handed over or not, by kind (digest, message) and result"),
        &["kind", "result"],
    )?;
    let calls_syncs = IntCounterVec::new(
        Opts::new(
            "calls_syncs_total",
            "Syncs of calls from the Funding & Tenders portal run here, by outcome (done, failed)",
        ),
        &["outcome"],
    )?;
    let webhooks = IntCounterVec::new(
        Opts::new(
            "webhook_deliveries_total",
            "Webhook attempts made here, by result (sent, retrying, failed) and endpoints disabled (disabled)",
        ),
        &["result"],
    )?;
    let webhook_seconds = HistogramVec::new(
        HistogramOpts::new("webhook_pass_duration_seconds", "How long a webhook sending pass ran here")
            .buckets(vec![0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0]),
        &["job"],
    )?;
    let gauges = IntGaugeVec::new(
        Opts::new(
            "state",
            "Read at each scrape: index_members, index_projects, index_concepts, pool_connections, \
                            pool_idle, change_log_behind",
        ),
        &["what"],
    )?;
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(request_seconds.clone()))?;
    registry.register(Box::new(job_periods.clone()))?;
    registry.register(Box::new(job_seconds.clone()))?;
    registry.register(Box::new(mail.clone()))?;
    registry.register(Box::new(calls_syncs.clone()))?;
    registry.register(Box::new(webhooks.clone()))?;
    registry.register(Box::new(webhook_seconds.clone()))?;
    registry.register(Box::new(gauges.clone()))?;
    Ok(Metrics {
        registry,
        requests,
        request_seconds,
        job_periods,
        job_seconds,
        mail,
        calls_syncs,
        webhooks,
        webhook_seconds,
        gauges,
    })
}

static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match build() {
    Ok(m) => Some(m),
    Err(e) => {
        tracing::error!(error = %e, "metrics could not be registered; none are kept");
        None
    }
});

/// The process's metrics (`None` only if registering them failed, which is logged once).
pub fn get() -> Option<&'static Metrics> {
    METRICS.as_ref()
}

/// Count one calls sync, by outcome (`done`, `failed`).
pub fn calls_sync(outcome: &str) {
    if let Some(m) = get() {
        m.calls_syncs.with_label_values(&[outcome]).inc();
    }
}

/// Count a webhook sending pass: its attempts by result, the endpoints it disabled, and how long it ran.
pub fn webhooks(sent: &crate::webhook::send::Sent, took: Duration) {
    if let Some(m) = get() {
        for (result, n) in
            [("sent", sent.sent), ("retrying", sent.retrying), ("failed", sent.failed), ("disabled", sent.disabled)]
        {
            m.webhooks.with_label_values(&[result]).inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
        m.webhook_seconds.with_label_values(&["webhooks"]).observe(took.as_secs_f64());
    }
}

/// Count one answered request.
pub fn request(route: &str, method: &str, status: u16, took: Duration) {
    if let Some(m) = get() {
        m.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        m.request_seconds.with_label_values(&[route, method]).observe(took.as_secs_f64());
    }
}

/// Count one job period and how long it ran.
pub fn job_period(job: &str, outcome: &str, took: Duration) {
    if let Some(m) = get() {
        m.job_periods.with_label_values(&[job, outcome]).inc();
        m.job_seconds.with_label_values(&[job]).observe(took.as_secs_f64());
    }
}

/// Count e-mails of a delivery pass.
pub fn mail(kind: &str, sent: usize, retrying: usize, failed: usize) {
    if let Some(m) = get() {
        for (result, n) in [("sent", sent), ("retrying", retrying), ("failed", failed)] {
            m.mail.with_label_values(&[kind, result]).inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }
}

/// The text exposition, with the scrape-time values given.
pub fn render(state: &[(&str, i64)]) -> String {
    let Some(m) = get() else { return String::new() };
    for (what, value) in state {
        m.gauges.with_label_values(&[what]).set(*value);
    }
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::warn!(error = %e, "metrics could not be encoded");
    }
    String::from_utf8(out).unwrap_or_default()
}
