//! Administration from the command line, without a running server: accounts and portal clients.

use std::io::BufRead;

use anyhow::Context;
use uuid::Uuid;

use crate::auth::{Role, parse_scopes, password, secret};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::audit::{self, AuditEvent};
use crate::db::{self, DbError, accounts, members};
use crate::domain::parse::ApiEnum;
use crate::startup::prepare_database;

/// The password for `user add`: `MATCHMAKER_PASSWORD`, or the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("MATCHMAKER_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// `matchmaker user add`
pub async fn add_user(
    settings: Settings,
    email: String,
    role: String,
    member: Option<String>,
) -> anyhow::Result<String> {
    let role = Role::from_name(&role).context("--role must be admin, staff or member")?;
    let member_id =
        member.as_deref().map(Uuid::parse_str).transpose().context("--member must be a member id (UUID)")?;
    match (role, member_id) {
        (Role::Member, None) => anyhow::bail!("--member is required for the member role"),
        (Role::Admin | Role::Staff, Some(_)) => anyhow::bail!("--member goes with the member role only"),
        _ => {}
    }
    crate::domain::member::email(&serde_json::Value::String(email.clone()))
        .map_err(|_| anyhow::anyhow!("--email must be an e-mail address"))?;
    let password = read_password()?;
    if let Some(problem) = password::policy_problem(&password, &[&email]) {
        anyhow::bail!("the password {problem}");
    }
    let pool = prepare_database(&settings).await?;
    let now = SystemClock.now();
    let user = db::run(&pool, move |conn| {
        let hash = password::hash(&password).map_err(CliError::Other)?;
        db::write(conn, |conn| {
            if let Some(id) = member_id
                && members::find(conn, id)?.is_none()
            {
                return Err(CliError::Other(anyhow::anyhow!("no member has the id {id}")));
            }
            if accounts::find_user_by_email(conn, &email)?.is_some() {
                return Err(CliError::Other(anyhow::anyhow!("an account with this e-mail already exists")));
            }
            let user = accounts::insert_user(conn, &email, &hash, role, member_id, false, now)?;
            let event = AuditEvent::new("cli", "user.created", None)
                .target(format!("user:{}", user.id))
                .details(serde_json::json!({"role": role, "member_id": member_id}));
            audit::record(conn, &event, now)?;
            Ok(user)
        })
    })
    .await?;
    tracing::info!(user_id = %user.id, role = %user.role, "account created");
    Ok(format!("user_id: {}\nemail: {}\nrole: {}\n", user.id, user.email, user.role))
}

/// `matchmaker client add`
pub async fn add_client(settings: Settings, name: String, scopes: String) -> anyhow::Result<String> {
    let scopes = parse_scopes(&scopes)
        .filter(|s| !s.is_empty())
        .context("--scopes must list members:read, members:write, suggestions:read or suggestions:react")?;
    anyhow::ensure!(!name.trim().is_empty() && name.chars().count() <= 200, "--name must have 1 to 200 characters");
    let pool = prepare_database(&settings).await?;
    let client_secret = secret::random_token(32)?;
    let hash = secret::hash_client_secret(&client_secret);
    let now = SystemClock.now();
    let client = db::run(&pool, move |conn| {
        db::write(conn, |conn| {
            let client = accounts::insert_client(conn, name.trim(), &scopes, &hash, now)?;
            let event = AuditEvent::new("cli", "client.created", None)
                .target(format!("client:{}", client.client_id))
                .details(serde_json::json!({"name": client.name, "scopes": client.scopes}));
            audit::record(conn, &event, now)?;
            Ok::<_, CliError>(client)
        })
    })
    .await?;
    tracing::info!(client_id = %client.client_id, "client created");
    Ok(format!("client_id: {}\nclient_secret: {client_secret}\n", client.client_id))
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0:#}")]
    Other(anyhow::Error),
}

impl From<diesel::result::Error> for CliError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// `matchmaker check`: the report of stored rows that today's rules refuse, and whether there were any.
pub async fn check(settings: Settings) -> anyhow::Result<(String, bool)> {
    let pool = prepare_database(&settings).await?;
    let findings = db::run(&pool, |conn| crate::check::stored_rows(conn).map_err(DbError::from))
        .await
        .map_err(anyhow::Error::from)?;
    let mut out = String::new();
    for f in &findings {
        out.push_str(&format!("{f}\n"));
    }
    if findings.is_empty() {
        out.push_str("every stored member and project passes today's rules\n");
    } else {
        out.push_str(&format!(
            "{} stored rows fail today's rules: fix the fields named above (PATCH /v1/members/{{id}} or \
             /v1/projects/{{id}}); an import reference can only be replaced by deleting and re-importing the call\n",
            findings.len()
        ));
    }
    Ok((out, findings.is_empty()))
}

/// `matchmaker import calls FILE`: with a progress bar on standard error and a summary on standard output.
pub async fn import_calls(settings: Settings, file: std::path::PathBuf) -> anyhow::Result<String> {
    let data = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let pool = prepare_database(&settings).await?;
    let threshold = settings.matching.fuzzy_threshold;
    let summary = db::run(&pool, move |conn| {
        let vocab = crate::indexer::load_vocabulary(conn, threshold)?;
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} calls ({eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let now = SystemClock.now();
        let prepared = crate::import::prepare(&data, &vocab, now, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (summary, _) = crate::import::store(conn, prepared, now).map_err(|e| anyhow::anyhow!("{e}"))?;
        bar.finish_and_clear();
        Ok::<_, anyhow::Error>(summary)
    })
    .await?;
    let mut out = format!(
        "rows: {}\ncreated: {}\nupdated: {}\nunchanged: {}\nskipped: {}\n",
        summary.rows,
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.skipped.len()
    );
    for s in &summary.skipped {
        out.push_str(&format!(
            "  row {} ({}): {}\n",
            s.row,
            s.reference.as_deref().unwrap_or("no reference"),
            s.reason
        ));
    }
    Ok(out)
}

/// `matchmaker digest run [--week 2026-W48] [--dry-run]`: compose and send a week's digests, claiming the week like
/// the scheduler does (so it never races a running instance), with a progress display and a summary.
pub async fn digest_run(settings: Settings, week: Option<String>, dry_run: bool) -> anyhow::Result<String> {
    use crate::digest::IsoWeek;
    use crate::scheduler::{Job, Jobs, Outcome};

    let pool = crate::startup::prepare_database(&settings).await?;
    let mailer = crate::startup::mailer(&settings)?;
    let clock: crate::clock::SharedClock = std::sync::Arc::new(crate::clock::SystemClock);
    let jobs =
        std::sync::Arc::new(Jobs::new(pool.clone(), clock, None, settings.review.clone(), mailer, &settings.scheduler));
    let week = match week {
        Some(w) => {
            IsoWeek::parse(&w).ok_or_else(|| anyhow::anyhow!("--week `{w}` is not an ISO week such as 2026-W48"))?
        }
        None => jobs.current_week(),
    };
    if dry_run {
        let j = jobs.clone();
        let lines = crate::db::run(&pool, move |conn| {
            let due = j.mailer.dry_run(conn, week, j.clock.now())?;
            let line = |(m, p): &(crate::domain::member::Member, crate::digest::compose::Preview)| {
                let (name, to, subject) = (&m.profile.name, &m.profile.contact_email, &p.rendered.subject);
                format!("  {name} <{to}>: {} suggestion(s), {subject:?}", p.ids.len())
            };
            Ok::<_, crate::db::DbError>(due.iter().map(line).collect::<Vec<_>>())
        })
        .await?;
        return Ok(format!(
            "dry run for {week}: {} member(s) would receive a digest (nothing stored or sent)\n{}",
            lines.len(),
            lines.join("\n")
        ));
    }
    anyhow::ensure!(
        settings.mail.smtp_url.is_some(),
        "MATCHMAKER_SMTP_URL is not set: say which SMTP server sends the digests (or use --dry-run)"
    );
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let shown = bar.clone();
    let step: crate::scheduler::Step = std::sync::Arc::new(move |s: &str| {
        shown.inc(1);
        shown.set_message(s.to_owned());
    });
    let outcome = jobs.run_period_with(Job::Digest, week.to_string(), true, step).await?;
    bar.finish_and_clear();
    match outcome {
        Outcome::Finished(s) => Ok(format!("digest {s}")),
        Outcome::Unfinished(s) => Ok(format!("digest {s} (the rest is retried by the scheduler or the next run)")),
        Outcome::Skipped(why) => anyhow::bail!("the digest of {week} is not run now: {why}"),
    }
}
