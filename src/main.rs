//! The `matchmaker` command: `serve` (the default), `migrate`, `healthcheck`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use matchmaker::clock::SystemClock;
use matchmaker::config::Settings;
use matchmaker::startup::{Application, prepare_database};
use matchmaker::{cli, telemetry};

#[derive(Debug, Parser)]
#[command(name = "matchmaker", version, about = "Cluster Matchmaker: profiles, matches, review and digests")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations and serve the API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Exit 0 when the local server answers GET /health/ready with 200 (for container health checks).
    Healthcheck,
    /// Signing keys for access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// People's accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Member organisations.
    Member {
        #[command(subcommand)]
        command: MemberCommand,
    },
    /// Partner-portal clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Import data.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Report stored members and projects that today's validation rules refuse (exit 1 if there are any).
    Check,
    /// Copy the SQLite database consistently while it serves, with the key files it needs, into FILE's folder.
    Backup {
        /// The new database file (must not exist); the key files go beside it.
        file: std::path::PathBuf,
    },
    /// Weekly digests.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
}

#[derive(Debug, Subcommand)]
enum DigestCommand {
    /// Compose and send a week's digests now (what the scheduler does on Mondays); safe to repeat.
    Run {
        /// The ISO week, e.g. 2026-W48 (default: this week in MATCHMAKER_SCHEDULE_TZ).
        #[arg(long)]
        week: Option<String>,
        /// Show who would receive what; store and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import open funding calls from an EU Funding & Tenders portal export (CSV), or with --from-portal from the
    /// portal's search API (MATCHMAKER_CALLS_SOURCE_URL); re-importing changes nothing.
    Calls {
        /// The CSV file.
        #[arg(required_unless_present = "from_portal", conflicts_with = "from_portal")]
        file: Option<std::path::PathBuf>,
        /// Sync the open and forthcoming calls from the portal's search API, as the daily job does.
        #[arg(long)]
        from_portal: bool,
        /// With --from-portal: read the portal and report what would be created, updated and closed; store nothing.
        #[arg(long, requires = "from_portal")]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a new Ed25519 private key (PEM) for MATCHMAKER_JWT_KEY.
    New,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password comes from MATCHMAKER_PASSWORD or, if unset, the first line of standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "staff", "member"])]
        role: String,
        /// The member organisation (required for the member role).
        #[arg(long)]
        member: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Erase a member: its data, and its name wherever other members keep something about it (as the API's DELETE).
    Erase {
        /// The member's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Create a portal client; prints `client_id: …` and `client_secret: …` (the secret only this once).
    Add {
        #[arg(long)]
        name: String,
        /// Comma-separated: members:read, members:write, suggestions:read, suggestions:react.
        #[arg(long)]
        scopes: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(serve(settings)),
        Command::Migrate => actix_web::rt::System::new().block_on(migrate(settings)),
        Command::Healthcheck => healthcheck(settings.addr),
        Command::Keys { command: KeysCommand::New } => print_new_key(),
        Command::User { command: UserCommand::Add { email, role, member } } => actix_web::rt::System::new()
            .block_on(cli::add_user(settings, email, role, member))
            .map(|text| print_out(&text)),
        Command::Import { command: ImportCommand::Calls { file, from_portal, dry_run } } => {
            let run = actix_web::rt::System::new();
            match file {
                Some(file) if !from_portal => run.block_on(cli::import_calls(settings, file)),
                _ => run.block_on(cli::sync_calls(settings, dry_run)),
            }
            .map(|text| print_out(&text))
        }
        Command::Digest { command: DigestCommand::Run { week, dry_run } } => {
            actix_web::rt::System::new().block_on(cli::digest_run(settings, week, dry_run)).map(|text| print_out(&text))
        }
        Command::Check => match actix_web::rt::System::new().block_on(cli::check(settings)) {
            Ok((report, clean)) => {
                print_out(&report);
                return if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE };
            }
            Err(e) => Err(e),
        },
        Command::Backup { file } => {
            actix_web::rt::System::new().block_on(cli::backup(settings, file)).map(|text| print_out(&text))
        }
        Command::Member { command: MemberCommand::Erase { id } } => {
            actix_web::rt::System::new().block_on(cli::erase_member(settings, id)).map(|text| print_out(&text))
        }
        Command::Client { command: ClientCommand::Add { name, scopes } } => {
            actix_web::rt::System::new().block_on(cli::add_client(settings, name, scopes)).map(|text| print_out(&text))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(&settings, Arc::new(SystemClock)).await?;
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    prepare_database(&settings).await?;
    tracing::info!(database = %settings.database, "database is up to date");
    Ok(())
}

#[expect(clippy::print_stdout, reason = "this is the command's output")]
fn print_out(text: &str) {
    print!("{text}");
}

fn print_new_key() -> anyhow::Result<()> {
    print_out(&matchmaker::auth::keys::generate_pem()?);
    Ok(())
}

/// A minimal HTTP/1.1 probe of the server's own address, so the container image needs no curl.
fn healthcheck(addr: SocketAddr) -> anyhow::Result<()> {
    let target = if addr.ip().is_unspecified() {
        SocketAddr::new(
            if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() },
            addr.port(),
        )
    } else {
        addr
    };
    let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(3))?;
    stream.set_read_timeout(Some(Duration::from_secs(3)))?;
    write!(stream, "GET /health/ready HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n")?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head)?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        anyhow::bail!("{target} is not ready: {}", String::from_utf8_lossy(&head))
    }
}
