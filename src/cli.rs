//! Administration from the command line, without a running server: accounts and portal clients.

use std::io::BufRead;

use anyhow::Context;
use uuid::Uuid;

use crate::app::accounts::{self, NewPassword};
use crate::app::{Actor, AppError, Store, projects};
use crate::auth::{Role, parse_scopes};
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::db;
use crate::domain::parse::ApiEnum;
use crate::startup::prepare_database;

/// The password for `user add`: `MATCHMAKER_PASSWORD`; on a terminal, typed after a prompt without echo, twice; else
/// the first line of standard input.
fn read_password(email: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal as _;
    if let Ok(p) = std::env::var("MATCHMAKER_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password(format!("Password for {email}: ")).context("cannot read the password")?;
        let again = rpassword::prompt_password("The same password again: ").context("cannot read the password")?;
        anyhow::ensure!(first == again, "the two passwords differ; nothing was created");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A use-case's refusal as a line for the terminal.
fn refused(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(errors) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|f| format!("{} {}", f.pointer.trim_start_matches('/').replace('/', "."), f.detail))
                .collect();
            anyhow::anyhow!("{}", lines.join("; "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// The database of a command other than `serve` and `migrate`, which must exist already: run from the wrong folder
/// without `DATABASE_URL`, a command would otherwise make a new, empty database that no server reads. Says on
/// standard error which database it uses.
async fn existing_database(settings: &Settings) -> anyhow::Result<db::DbPool> {
    if let Some(path) = settings.database.sqlite_path() {
        anyhow::ensure!(
            path.is_file(),
            "no database at {} (from DATABASE_URL, or the default under ./data): set DATABASE_URL to the database \
             the service uses, or create it with `matchmaker migrate`",
            path.display()
        );
    }
    eprintln!("database: {}", settings.database);
    prepare_database(settings).await
}

/// Storage and the system clock, for commands that run without a server.
async fn store(settings: &Settings) -> anyhow::Result<Store> {
    Ok(Store {
        pool: existing_database(settings).await?,
        clock: std::sync::Arc::new(SystemClock),
        accounts: std::sync::Arc::default(),
        calls: settings.matching.calls.clone(),
    })
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
    crate::domain::member::email(&serde_json::Value::String(email.clone()))
        .map_err(|_| anyhow::anyhow!("--email must be an e-mail address"))?;
    let password = read_password(&email)?;
    let store = store(&settings).await?;
    let (user, _) = accounts::create_user(&store, &Actor::cli(), email, role, member_id, NewPassword::Chosen(password))
        .await
        .map_err(refused)?;
    Ok(format!("user_id: {}\nemail: {}\nrole: {}\n", user.id, user.email, user.role))
}

/// `matchmaker client add`
pub async fn add_client(settings: Settings, name: String, scopes: String) -> anyhow::Result<String> {
    let scopes = parse_scopes(&scopes)
        .filter(|s| !s.is_empty())
        .context("--scopes must list members:read, members:write, suggestions:read or suggestions:react")?;
    anyhow::ensure!(!name.trim().is_empty() && name.chars().count() <= 200, "--name must have 1 to 200 characters");
    let store = store(&settings).await?;
    let (client, secret) =
        accounts::create_client(&store, &Actor::cli(), None, name.trim().to_owned(), scopes).await.map_err(refused)?;
    Ok(format!("client_id: {}\nclient_secret: {secret}\n", client.client_id))
}

/// `matchmaker member erase ID`
pub async fn erase_member(settings: Settings, id: String) -> anyhow::Result<String> {
    let id = Uuid::parse_str(id.trim()).context("the member id must be a UUID")?;
    let store = store(&settings).await?;
    if crate::app::privacy::erase(&store, id).await.map_err(refused)? {
        Ok(format!("erased: {id}\n"))
    } else {
        anyhow::bail!("no member has the id {id}")
    }
}

/// `matchmaker backup FILE`: a consistent copy of the SQLite database while it serves, with the key files it needs
/// beside it (the signing key: tokens; the unsubscribe key: every link in every digest sent).
pub async fn backup(settings: Settings, file: std::path::PathBuf) -> anyhow::Result<String> {
    let Some(db) = settings.database.sqlite_path().map(std::path::Path::to_path_buf) else {
        anyhow::bail!(
            "`backup` copies a SQLite database; for PostgreSQL use pg_dump and keep the keys (see the README's Backups)"
        );
    };
    anyhow::ensure!(db.is_file(), "no database at {} (set DATABASE_URL to the one to back up)", db.display());
    anyhow::ensure!(!file.exists(), "{} exists already: back up to a new file", file.display());
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let keys = [crate::auth::keys::dev_key_path(&db), crate::digest::token::dev_key_path(&db)];
    for key in keys.iter().filter(|k| k.is_file()) {
        let to = dir.join(key.file_name().unwrap_or_default());
        anyhow::ensure!(!to.exists(), "{} exists already: back up into a folder of its own", to.display());
    }
    let pool = db::pool(&settings.database, 1)?;
    // Created empty and private first, so the copy is never readable by others (VACUUM INTO fills an empty file).
    crate::fsutil::private_database(&file)?;
    let target = file.clone();
    db::run(&pool, move |conn| db::backup_into(conn, &target)).await?;
    let mut out =
        format!("database: {}\nbackup: {} ({} bytes)\n", db.display(), file.display(), file.metadata()?.len());
    for key in keys.iter().filter(|k| k.is_file()) {
        let to = dir.join(key.file_name().unwrap_or_default());
        crate::fsutil::write_private(&to, &std::fs::read(key)?)?;
        out.push_str(&format!("key: {}\n", to.display()));
    }
    for (name, set) in [
        ("MATCHMAKER_JWT_KEY", settings.auth.signing_key.is_some()),
        ("MATCHMAKER_UNSUBSCRIBE_KEY", settings.mail.unsubscribe_key.is_some()),
    ] {
        if set {
            out.push_str(&format!("note: {name} is configured: keep it with this backup\n"));
        }
    }
    Ok(out)
}

/// `matchmaker check`: the report of stored rows that today's rules refuse, and whether there were any.
pub async fn check(settings: Settings) -> anyhow::Result<(String, bool)> {
    let findings = crate::app::check::stored_rows(&store(&settings).await?).await.map_err(refused)?;
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
    let store = store(&settings).await?;
    let threshold = settings.matching.fuzzy_threshold;
    let vocab = db::run(&store.pool, move |conn| crate::indexer::load_vocabulary(conn, threshold)).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} calls ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let progress = move |done: usize, total: usize| {
        shown.set_length(total as u64);
        shown.set_position(done as u64);
    };
    let by = projects::ImportedBy { source: "file", requested_by: "cli".to_owned() };
    let summary = projects::import_calls(&store, by, vocab, None, data, progress).await.map_err(refused)?;
    bar.finish_and_clear();
    Ok(summary_text(&summary))
}

/// `matchmaker import calls --from-portal [--dry-run]`: sync the calls from the portal's search API, as the daily job
/// does (one sync at a time across instances); with `--dry-run`, what it would do, storing nothing.
pub async fn sync_calls(settings: Settings, dry_run: bool) -> anyhow::Result<String> {
    use crate::db::imports::Begin;
    let store = store(&settings).await?;
    let threshold = settings.matching.fuzzy_threshold;
    let vocab = db::run(&store.pool, move |conn| crate::indexer::load_vocabulary(conn, threshold)).await?;
    eprintln!("source: {}", crate::config::masked_url(settings.portal.source_url.as_str()));
    let ctx = crate::portal::SyncContext {
        pool: store.pool.clone(),
        clock: store.clock.clone(),
        vocab,
        filter: store.calls.clone(),
        index: None,
        portal: std::sync::Arc::new(crate::portal::Portal::new(&settings.portal)?),
        lease_seconds: i64::try_from(settings.scheduler.lease.as_secs()).unwrap_or(120),
        heartbeat: settings.scheduler.heartbeat,
    };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner.set_message("reading the portal's search");
    if dry_run {
        let summary = crate::portal::dry_run(&ctx).await;
        spinner.finish_and_clear();
        let summary = summary?;
        return Ok(format!("dry run: nothing was stored\n{}", summary_text(&summary)));
    }
    let row = match crate::portal::begin(&ctx, "cli").await? {
        Begin::Running(row) => {
            spinner.finish_and_clear();
            anyhow::bail!(
                "a sync is running already ({}, asked by {}); follow it with GET /v1/imports/{}",
                row.id,
                row.requested_by,
                row.id
            )
        }
        Begin::Started(row) => row,
    };
    let id = row.id.clone();
    let summary = crate::portal::run(&ctx, row).await;
    spinner.finish_and_clear();
    let summary =
        summary.with_context(|| format!("sync {id} failed; nothing was stored (see GET /v1/imports/{id})"))?;
    Ok(format!("sync: {id}\n{}", summary_text(&summary)))
}

/// An import's summary for the terminal.
fn summary_text(summary: &crate::import::Summary) -> String {
    let mut out = format!(
        "rows: {}\ncreated: {}\nupdated: {}\nunchanged: {}\nleft out: {}\nopen: {}\nforthcoming: {}\nclosed: {}\n\
         missing: {}\nwithdrawn: {}\nskipped: {}\n",
        summary.rows,
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.left_out,
        summary.open,
        summary.forthcoming,
        summary.closed,
        summary.missing,
        summary.withdrawn,
        summary.skipped.len()
    );
    for w in &summary.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for s in &summary.skipped {
        out.push_str(&format!(
            "  row {} ({}): {}\n",
            s.row,
            s.reference.as_deref().unwrap_or("no reference"),
            s.reason
        ));
    }
    out
}

/// `matchmaker digest run [--week 2026-W48] [--dry-run]`: compose and send a week's digests, claiming the week like
/// the scheduler does (so it never races a running instance), with a progress display and a summary.
pub async fn digest_run(settings: Settings, week: Option<String>, dry_run: bool) -> anyhow::Result<String> {
    use crate::digest::IsoWeek;
    use crate::scheduler::{Job, Jobs, Outcome};

    let pool = existing_database(&settings).await?;
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
    anyhow::ensure!(
        settings.mail.public_url_set,
        "MATCHMAKER_PUBLIC_URL is not set: the links in the digests (unsubscribe, reactions) would point at {}, which \
         members cannot reach; set it to the address members reach the service at (or use --dry-run)",
        settings.mail.public_url
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
