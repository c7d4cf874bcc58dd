//! The harness itself, on a page the service already serves: the browser opens it, axe-core checks it, and a
//! screenshot of it is written.

use crate::driver::{self, Browser, WINDOW};
use crate::helpers::{Backend, TestApp, studio};

/// Width and height from a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_checks_a_real_page() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always runs");
    let (member, _, _) = app.create_member(&studio("Lumen Studio")).await;
    let id: uuid::Uuid = member["id"].as_str().unwrap().parse().unwrap();
    let unsubscribe = format!("/v1/unsubscribe?token={}", app.jobs.mailer.key.token(id));

    // The page is the one a member's digest links to: a question and a button.
    browser.goto(&app.url(&unsubscribe)).await.unwrap();
    let question = browser.find(fantoccini::Locator::Css("p")).await.unwrap().text().await.unwrap();
    assert!(question.contains("Lumen Studio"), "{question}");
    driver::assert_accessible(&browser, "the unsubscribe page").await;

    // The check finds what it should: an image without a text alternative is a critical violation.
    browser.execute("document.body.append(document.createElement('img'))", Vec::new()).await.unwrap();
    let found = driver::axe_check(&browser).await;
    let missing_alt = found.iter().find(|v| v.id == "image-alt").expect("axe reports the image without alt text");
    assert!(missing_alt.fails(), "{missing_alt:?}");

    let dir = tempfile::tempdir().unwrap();
    let written = driver::capture(&browser, &app.base, &[("unsubscribe.png", &unsubscribe)], dir.path()).await;
    assert_eq!(written, [dir.path().join("unsubscribe.png")]);
    let png = std::fs::read(&written[0]).unwrap();
    assert_eq!(png_size(&png), WINDOW, "the screenshot is of the whole 1280×800 window");
    browser.close().await;
}
