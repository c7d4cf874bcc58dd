//! Headless Chromium over WebDriver for the browser test: Debian's `chromium` and `chromium-driver`, an
//! accessibility check with the vendored axe-core, and screenshots.
//!
//! [`Browser::start`] finds the two programs (`CHROMIUM` and `CHROMEDRIVER`, else `PATH`), starts chromedriver on a
//! free local port and opens one 1280×800 headless session. One browser runs at a time in this binary: a second
//! `start` waits until the first browser is dropped, so tests that each take a browser run one after another.

use std::ffi::OsStr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde::Deserialize;
use serde_json::{Value, json};

/// The size of the window every page is checked and photographed at.
pub const WINDOW: (u32, u32) = (1280, 800);

/// The vendored axe-core (`assets/console/vendor/axe-core/`).
const AXE: &str = include_str!("../../assets/console/vendor/axe-core/axe.min.js");

/// The rule sets checked: WCAG 2.0 and 2.1, levels A and AA, and axe's best practices.
const AXE_RUN: &str = "
    const done = arguments[arguments.length - 1];
    axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})
        .then(results => done(results.violations), error => done({error: String(error)}));
";

/// How long chromedriver may take to answer, and a page or a script to finish.
const PATIENCE: Duration = Duration::from_secs(30);

/// Held by the one browser running in this binary.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const INSTALL: &str = "apt-get install -y chromium chromium-driver";

/// A program named by the environment variable `var`, else the first `name` on `PATH`.
fn program(var: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(format!("{var}={} names no file", path.display())) };
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no `{name}` on PATH and {var} is not set"))
}

/// Both programs, or `None` (said loudly) when one is missing outside CI; under CI a missing one fails the test.
fn programs() -> Option<(PathBuf, PathBuf)> {
    match (program("CHROMIUM", "chromium"), program("CHROMEDRIVER", "chromedriver")) {
        (Ok(chromium), Ok(chromedriver)) => Some((chromium, chromedriver)),
        (chromium, chromedriver) => {
            let why: Vec<String> = [chromium.err(), chromedriver.err()].into_iter().flatten().collect();
            let why = why.join("; ");
            assert!(
                std::env::var_os("CI").is_none(),
                "Chromium cannot be run ({why}): under CI the browser test must run. Install it with `{INSTALL}`."
            );
            eprintln!(
                "\n!!!!!!!! Chromium cannot be run ({why}): this browser test DID NOT RUN. \
                 Install it with `{INSTALL}` (or point CHROMIUM and CHROMEDRIVER at the programs). !!!!!!!!\n"
            );
            None
        }
    }
}

/// A free port on the loopback interface (free when asked; chromedriver takes it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running chromedriver, in a process group of its own; dropping it ends the group, Chromium included.
struct Chromedriver {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Chromedriver {
    /// Start chromedriver on a free port and wait until `/status` says it is ready.
    async fn start(program: &Path) -> Self {
        use std::os::unix::process::CommandExt as _;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("chromedriver.log");
        let port = free_port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let driver = Self { child, url: format!("http://127.0.0.1:{port}"), log, _dir: dir };
        driver.wait_until_ready().await;
        driver
    }

    async fn wait_until_ready(&self) {
        let client = crate::helpers::http_client();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let status = client.get(format!("{}/status", self.url)).timeout(Duration::from_secs(2)).send().await;
            if let Ok(reply) = status
                && let Ok(body) = reply.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready in {PATIENCE:?}\n{}", self.log_tail());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The end of chromedriver's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!("chromedriver's log, last lines:\n{}", lines[lines.len().saturating_sub(30)..].join("\n"))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let group = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        let _ = self.child.wait();
    }
}

/// A headless Chromium session, 1280×800, and the chromedriver behind it. Derefs to the WebDriver client.
pub struct Browser {
    client: Client,
    _driver: Chromedriver,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Deref for Browser {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    /// A fresh browser, once no other in this binary is running; `None` (said loudly) when Chromium or chromedriver
    /// is missing outside CI, a failure under CI.
    pub async fn start() -> Option<Self> {
        let (chromium, chromedriver) = programs()?;
        let turn = ONE_AT_A_TIME.lock().await;
        let driver = Chromedriver::start(&chromedriver).await;
        let (width, height) = WINDOW;
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    // The tests run as root, where Chromium's sandbox cannot start.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"),
                ],
            }),
        );
        let millis = u64::try_from(PATIENCE.as_millis()).unwrap();
        capabilities.insert("timeouts".into(), json!({"pageLoad": millis, "script": millis}));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("Chromium did not start a session: {e}\n{}", driver.log_tail()));
        let browser = Self { client, _driver: driver, _turn: turn };
        browser.fit_viewport().await;
        Some(browser)
    }

    /// Size the window so that the page itself (the viewport) is [`WINDOW`]: even headless, Chromium keeps room for
    /// its toolbars inside the window's size.
    async fn fit_viewport(&self) {
        let (width, height) = WINDOW;
        let viewport = || async {
            let size = self.client.execute("return [window.innerWidth, window.innerHeight]", Vec::new()).await.unwrap();
            let side = |i: usize| u32::try_from(size[i].as_u64().unwrap()).unwrap();
            (side(0), side(1))
        };
        self.client.set_window_size(width, height).await.unwrap();
        let (inner_width, inner_height) = viewport().await;
        self.client.set_window_size(2 * width - inner_width, 2 * height - inner_height).await.unwrap();
        assert_eq!(viewport().await, WINDOW, "the page is shown at 1280×800");
    }

    /// End the session (Chromium closes), then chromedriver.
    pub async fn close(self) {
        let Self { client, _driver, _turn } = self;
        client.close().await.unwrap();
    }
}

/// One of axe's findings: a rule the page breaks, and where.
#[derive(Debug, Deserialize)]
pub struct Violation {
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    pub nodes: Vec<ViolationNode>,
}

/// An element that breaks a rule.
#[derive(Debug, Deserialize)]
pub struct ViolationNode {
    /// CSS selectors (nested arrays for elements inside frames or shadow roots).
    pub target: Vec<Value>,
}

impl Violation {
    /// Serious and critical findings fail the check; minor and moderate ones are reported only.
    pub fn fails(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }

    fn describe(&self) -> String {
        let targets: Vec<String> = self.nodes.iter().map(|n| n.target.iter().map(selector).collect()).collect();
        format!(
            "{} ({}): {} [{}] {}",
            self.id,
            self.impact.as_deref().unwrap_or("no impact given"),
            self.help,
            targets.join(", "),
            self.help_url
        )
    }
}

fn selector(target: &Value) -> String {
    match target {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().map(selector).collect::<Vec<_>>().join(" >> "),
        other => other.to_string(),
    }
}

/// Run axe-core on the page the browser shows now (WCAG 2.0/2.1 A and AA, and best practices) and return every
/// violation it finds.
pub async fn axe_check(client: &Client) -> Vec<Violation> {
    client.execute(AXE, Vec::new()).await.unwrap();
    let result = client.execute_async(AXE_RUN, Vec::new()).await.unwrap();
    assert!(result.get("error").is_none(), "axe-core failed: {result}");
    serde_json::from_value(result).unwrap()
}

/// Fail, listing each one, when the page the browser shows now has a serious or critical accessibility violation.
pub async fn assert_accessible(client: &Client, page_name: &str) {
    let violations = axe_check(client).await;
    let (failing, reported): (Vec<_>, Vec<_>) = violations.iter().partition(|v| v.fails());
    for v in &reported {
        eprintln!("{page_name}: accessibility note: {}", v.describe());
    }
    let failing: Vec<String> = failing.iter().map(|v| format!("  - {}", v.describe())).collect();
    assert!(
        failing.is_empty(),
        "{page_name} ({}) has serious or critical accessibility violations:\n{}",
        client.current_url().await.map(|u| u.to_string()).unwrap_or_default(),
        failing.join("\n")
    );
}

/// The page the browser shows now, as a PNG at `path` (the viewport: 1280×800).
pub async fn screenshot(client: &Client, path: &Path) {
    let png = client.screenshot().await.unwrap();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The folder `CONSOLE_SCREENSHOTS` names (relative to the repository root), when set: screenshots of the main
/// pages are to be written there.
pub fn screenshot_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CONSOLE_SCREENSHOTS").filter(|d| !d.is_empty())?;
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
}

/// Open each page, `(file name, path on base)`, check it is accessible, and write its screenshot to `dir` under
/// that file name; returns the files written. The pages are taken in order in the one browser, so a page can rely on
/// what an earlier one did (signing in, say).
pub async fn capture(client: &Client, base: &str, pages: &[(&str, &str)], dir: &Path) -> Vec<PathBuf> {
    let mut written = Vec::new();
    for (file, path) in pages {
        assert!(Path::new(file).extension() == Some(OsStr::new("png")), "{file}: a screenshot is a .png file");
        client.goto(&format!("{base}{path}")).await.unwrap();
        assert_accessible(client, file).await;
        let out = dir.join(file);
        screenshot(client, &out).await;
        eprintln!("wrote {}", out.display());
        written.push(out);
    }
    written
}
