//! The browser test: headless Chromium over WebDriver against the real application on SQLite, with an
//! accessibility check on every page it visits. The application is started as the API tests start it.
//!
//! `cargo test --test browser` runs it (Debian's `chromium` and `chromium-driver`; without them it says loudly that
//! it did not run, and fails under `CI`). A test that goes through the main pages also writes a 1280×800 screenshot
//! of each into the folder `CONSOLE_SCREENSHOTS` names, when it is set
//! (`CONSOLE_SCREENSHOTS=docs/console cargo test --test browser`; [`driver::screenshot_dir`], [`driver::capture`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly by design")]

// The API tests' set-up (a fresh database, the real application on port 0, fixtures), shared rather than copied;
// the replies of its requests are checked against the published contract here too (and the contract's own two
// tests run again in this binary).
#[path = "../api/contract.rs"]
mod contract;
#[path = "../api/helpers.rs"]
#[allow(dead_code, reason = "the browser test uses only part of the API tests' helpers")]
mod helpers;

mod console;
mod driver;
mod harness;
