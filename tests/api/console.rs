//! The staff console over HTTP, on both backends: signing in (sessions, their timeouts and revocation, the one-time
//! password), the CSRF token and `Origin` on every form, who may open which page (every page of the console's table),
//! and the review queue (approve, reject with a reason, approve a selection, a colleague's decision shown, never
//! overwritten).

use chrono::TimeDelta;
use matchmaker::auth::Role;
use reqwest::Method;
use scraper::{Html, Selector};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{ADMIN_EMAIL, Account, FIXTURE_PASSWORD, Reply, TestApp};
use crate::on_both_backends;

on_both_backends!(
    signing_in_opens_a_session_that_ends_as_tokens_do,
    forms_need_the_session_token_and_the_console_origin,
    every_page_asks_for_the_right_account,
    the_queue_is_decided_from_the_console,
    a_colleagues_decision_is_shown_not_overwritten,
    the_one_time_password_is_changed_first,
    signing_in_shares_the_token_endpoints_limits_and_audit,
);

/// A browser on the console: its session cookie and the CSRF token of the last page read; redirects not followed.
pub struct Console<'a> {
    pub app: &'a TestApp,
    client: reqwest::Client,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    /// The `Origin` forms are sent with.
    pub origin: String,
}

/// The first `input[name=csrf]` of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("input[name=csrf]").unwrap();
    doc.select(&sel).next().and_then(|e| e.value().attr("value")).map(str::to_owned)
}

/// The texts of the elements `selector` picks.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel).map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

/// The value of attribute `attr` of the elements `selector` picks.
pub fn attrs(html: &str, selector: &str, attr: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel).filter_map(|e| e.value().attr(attr).map(str::to_owned)).collect()
}

impl<'a> Console<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, client, cookie: None, csrf: None, origin: app.base.clone() }
    }

    /// Signed in as `email` with the fixtures' password.
    pub async fn signed_in(app: &'a TestApp, email: &str) -> Self {
        let mut c = Self::new(app);
        let reply = c.sign_in(email, FIXTURE_PASSWORD).await;
        assert_eq!(reply.status, 303, "{}", reply.text());
        c
    }

    /// Signed in as a new staff account.
    pub async fn staff(app: &'a TestApp) -> (Self, Account) {
        let account = app.user(Role::Staff, None);
        (Self::signed_in(app, &account.email).await, account)
    }

    /// Signed in as the administrator.
    pub async fn admin(app: &'a TestApp) -> Self {
        Self::signed_in(app, ADMIN_EMAIL).await
    }

    fn cookies(&self) -> String {
        let mut jar = vec![format!("mm_console_csrf={}", self.csrf.clone().unwrap_or_default())];
        if let Some(c) = &self.cookie {
            jar.push(format!("mm_console={c}"));
        }
        jar.join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.header("cookie", self.cookies()).send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if name == "mm_console" {
                self.cookie = (!value.is_empty() && !attributes.contains("Max-Age=0")).then(|| value.to_owned());
            }
            if name == "mm_console_csrf" && self.cookie.is_none() {
                self.csrf = Some(value.to_owned());
            }
        }
        let reply = Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        };
        if let Some(token) = csrf_of(&reply.text()) {
            self.csrf = Some(token);
        }
        reply
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let request = self.client.get(self.app.url(path));
        self.send(request).await
    }

    /// Send a form with the page's CSRF token and the console's origin.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, Some(&self.origin.clone())).await
    }

    /// Send a form exactly as given (no token added), with `origin` if any.
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)], origin: Option<&str>) -> Reply {
        let mut request = self.client.request(Method::POST, self.app.url(path)).form(fields);
        if let Some(o) = origin {
            request = request.header("origin", o);
        }
        self.send(request).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, 200);
        self.post("/console/sign-in", &[("email", email), ("password", password)]).await
    }
}

async fn signing_in_opens_a_session_that_ends_as_tokens_do(app: TestApp) {
    // Without a session, a page sends to the sign-in form, which comes back to it.
    let mut anonymous = Console::new(&app);
    let page = anonymous.get("/console/queue?order=best").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location").unwrap(), "/console/sign-in?next=%2Fconsole%2Fqueue%3Forder%3Dbest");

    // A wrong password: the form again, said plainly, and no session; audited like the token endpoint.
    let staff = app.user(Role::Staff, None);
    let mut browser = Console::new(&app);
    let wrong = browser.sign_in(&staff.email, "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("The e-mail or password is wrong."), "{}", wrong.text());
    assert!(browser.cookie.is_none());

    // The right one: a session cookie as it should be, then the page asked for.
    browser.get("/console/sign-in").await;
    let next = "/console/queue?order=best";
    let signed = browser
        .post("/console/sign-in", &[("email", &staff.email), ("password", FIXTURE_PASSWORD), ("next", next)])
        .await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    assert_eq!(signed.header("location").unwrap(), next);
    let set = signed.header("set-cookie").unwrap();
    assert!(set.starts_with("mm_console="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }
    assert!(!set.contains("Secure"), "over http the cookie cannot be Secure: {set}");
    let queue = browser.get("/console/queue").await;
    assert_eq!(queue.status, 200);
    assert!(texts(&queue.text(), "header .who").concat().contains(&staff.email));
    assert_eq!(queue.header("cache-control").unwrap(), "no-store");
    assert!(queue.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
    let audit = app.get(&format!("/v1/audit?action=auth.sign_in&target=user:{}", staff.id)).await;
    assert_eq!(audit.json()["items"].as_array().unwrap().len(), 1, "{}", audit.text());

    // Signing out ends this session; the next request is sent to sign in.
    let mut leaving = Console::signed_in(&app, &staff.email).await;
    let old = leaving.cookie.clone().unwrap();
    leaving.get("/console/queue").await;
    let out = leaving.post("/console/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    assert!(leaving.cookie.is_none(), "the cookie is cleared");
    leaving.cookie = Some(old);
    assert_eq!(leaving.get("/console/queue").await.status, 303, "the old cookie no longer works");

    // What revokes the account's tokens ends its sessions: a logout through the API, a role change, disabling.
    let later = app.user(Role::Staff, None);
    let mut first = Console::signed_in(&app, &later.email).await;
    assert_eq!(app.as_(&later.token).post("/v1/auth/logout", &json!({})).await.status, 204);
    let ended = first.get("/console/queue").await;
    assert!(ended.header("location").unwrap().ends_with("&ended=revoked"), "{:?}", ended.header("location"));
    let other = app.user(Role::Staff, None);
    let mut second = Console::signed_in(&app, &other.email).await;
    let disable = app.patch(&format!("/v1/users/{}", other.id), &json!({"disabled": true}), "*").await;
    assert_eq!(disable.status, 200, "{}", disable.text());
    assert_eq!(second.get("/console/queue").await.status, 303, "disabled: the session ends");

    // A member's account cannot sign in here.
    let (member, _, _) = app.create_member(&crate::helpers::studio("Atelier Lumen")).await;
    let member_id: Uuid = member["id"].as_str().unwrap().parse().unwrap();
    let person = app.user(Role::Member, Some(member_id));
    let mut outsider = Console::new(&app);
    let refused = outsider.sign_in(&person.email, FIXTURE_PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("for agency staff"));
    assert!(outsider.cookie.is_none());

    // Idle past the limit (30 minutes): ended, and said so on the sign-in form.
    app.clock.advance(TimeDelta::minutes(29));
    assert_eq!(browser.get("/console/queue").await.status, 200, "used within the idle limit");
    app.clock.advance(TimeDelta::minutes(31));
    let idle = browser.get("/console/queue").await;
    assert_eq!(idle.status, 303);
    assert!(idle.header("location").unwrap().ends_with("&ended=expired"));
    let form = browser.get(&idle.header("location").unwrap()).await;
    assert!(form.text().contains("after a while without use"));

    // However busy, a session ends 10 hours after sign-in.
    let mut busy = Console::signed_in(&app, &staff.email).await;
    for _ in 0..20 {
        app.clock.advance(TimeDelta::minutes(29));
        assert_eq!(busy.get("/console/queue").await.status, 200);
    }
    app.clock.advance(TimeDelta::minutes(29));
    assert_eq!(busy.get("/console/queue").await.status, 303, "past the absolute limit");
}

async fn forms_need_the_session_token_and_the_console_origin(app: TestApp) {
    let (mut browser, _) = Console::staff(&app).await;
    browser.get("/console/queue").await;
    let token = browser.csrf.clone().unwrap();

    // No token, or another one: refused, and nothing happens (still signed in).
    let none = browser.post_raw("/console/sign-out", &[], Some(&app.base)).await;
    assert_eq!(none.status, 403, "{}", none.text());
    assert!(none.text().contains("did not come from the console"));
    let forged = browser.post_raw("/console/sign-out", &[("csrf", "forged")], Some(&app.base)).await;
    assert_eq!(forged.status, 403);
    assert_eq!(browser.get("/console/queue").await.status, 200, "still signed in");

    // The right token from another site: refused by its Origin; and by Fetch metadata when Origin is missing.
    let cross = browser.post_raw("/console/sign-out", &[("csrf", &token)], Some("https://evil.example")).await;
    assert_eq!(cross.status, 403);
    assert!(cross.text().contains("another site"));
    let request = reqwest::Client::new()
        .post(app.url("/console/sign-out"))
        .header("cookie", format!("mm_console={}", browser.cookie.clone().unwrap()))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", token.as_str())]);
    assert_eq!(request.send().await.unwrap().status().as_u16(), 403);
    assert_eq!(browser.get("/console/queue").await.status, 200, "still signed in");

    // The sign-in form has its own token (no session yet): without it, no sign-in.
    let mut stranger = Console::new(&app);
    let blind = stranger
        .post_raw("/console/sign-in", &[("email", ADMIN_EMAIL), ("password", FIXTURE_PASSWORD)], Some(&app.base))
        .await;
    assert_eq!(blind.status, 403);
    assert!(stranger.cookie.is_none());

    // A form that is not a form.
    let json = reqwest::Client::new()
        .post(app.url("/console/sign-out"))
        .header("cookie", format!("mm_console={}", browser.cookie.clone().unwrap()))
        .header("origin", &app.base)
        .json(&json!({"csrf": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status().as_u16(), 400);
}

/// A concrete path for a page's template.
fn concrete(path: &str) -> String {
    let id = Uuid::new_v4().to_string();
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str(&id);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

async fn every_page_asks_for_the_right_account(app: TestApp) {
    use matchmaker::console::{Access, pages};
    let (mut staff, _) = Console::staff(&app).await;
    let mut admin = Console::admin(&app).await;
    let mut anonymous = Console::new(&app);
    anonymous.get("/console/sign-in").await;
    let mut checked = 0;
    for page in pages() {
        let path = concrete(page.path);
        let what = format!("{} {}", page.method, page.path);
        if page.access == Access::Public {
            continue;
        }
        let reading = page.method == "GET";
        // Nobody signed in.
        let reply = if reading { anonymous.get(&path).await } else { anonymous.post(&path, &[]).await };
        if reading {
            assert_eq!(reply.status, 303, "{what}");
            assert!(reply.header("location").unwrap().starts_with("/console/sign-in?next="), "{what}");
        } else {
            assert_eq!(reply.status, 401, "{what}");
        }
        // Staff: not the administrators' pages.
        staff.get("/console/queue").await;
        if page.access == Access::Admin {
            let reply = if reading { staff.get(&path).await } else { staff.post(&path, &[]).await };
            assert_eq!(reply.status, 403, "{what}: {}", reply.text());
        }
        // A form without the token, or from elsewhere: 403 before anything is done.
        if !reading {
            admin.get("/console/queue").await;
            let token = admin.csrf.clone().unwrap();
            assert_eq!(admin.post_raw(&path, &[], Some(&app.base)).await.status, 403, "{what} without a token");
            let cross = admin.post_raw(&path, &[("csrf", &token)], Some("https://evil.example")).await;
            assert_eq!(cross.status, 403, "{what} from another origin");
        } else {
            let reply = admin.get(&path).await;
            assert!(matches!(reply.status, 200 | 404), "{what}: the administrator may open it: {}", reply.status);
        }
        checked += 1;
    }
    assert!(checked >= 5, "the table has the console's pages");
}

/// Members whose run leaves suggestions pending.
async fn pending(app: &TestApp) -> Vec<serde_json::Value> {
    use crate::review::{create, member_body, run_matching};
    create(app, &member_body("Pixel Forge", &["3D modelling", "game design"], &["marketing strategy"])).await;
    create(app, &member_body("Brandwerk", &["marketing strategy", "branding"], &["3D modelling"])).await;
    create(app, &member_body("Lumen Studio", &["3D modelling", "animation"], &["branding"])).await;
    run_matching(app).await;
    let queue = app.get("/v1/review/queue?limit=100").await;
    queue.json()["items"].as_array().unwrap().clone()
}

async fn the_queue_is_decided_from_the_console(app: TestApp) {
    let items = pending(&app).await;
    assert!(items.len() >= 3, "{items:?}");
    let (mut browser, staff) = Console::staff(&app).await;
    let page = browser.get("/console/queue").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    // Each item names its member and the other side, with the explanation's words side by side.
    let listed = attrs(&html, "ol.queue > li.item", "data-id");
    assert_eq!(listed.len(), items.len());
    let headings = texts(&html, "ol.queue > li.item h2").join("\n");
    for name in ["Pixel Forge", "Brandwerk", "Lumen Studio"] {
        assert!(headings.contains(name), "{name} in {headings}");
    }
    assert!(texts(&html, "table.explain td").iter().any(|t| t == "3D modelling"), "the member's own words show");
    // Concepts are named in the page's language, whatever language the run named them in.
    let french = reqwest::Client::new()
        .get(app.url("/console/queue"))
        .header("cookie", format!("mm_console={}; mm_lang=fr", browser.cookie.clone().unwrap()));
    let french = french.send().await.unwrap().text().await.unwrap();
    assert!(texts(&french, "table.explain td").iter().any(|t| t == "modélisation 3D"), "{french}");
    let one = browser.get(&format!("/console/suggestions/{}", items[0]["id"].as_str().unwrap())).await.text();
    assert!(!texts(&one, "table.explain td").iter().any(|t| t == "modélisation 3D"), "English on an English page");

    // Approve one with an edited rationale.
    let first = &items[0];
    let id = first["id"].as_str().unwrap();
    let version = first["version"].as_i64().unwrap().to_string();
    let approved = browser
        .post(
            &format!("/console/suggestions/{id}/decision"),
            &[
                ("decision", "approve"),
                ("version", &version),
                ("rationale", "Both work on 3D heritage."),
                ("back", "/console/queue?order=best"),
            ],
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.text());
    assert!(approved.header("location").unwrap().starts_with("/console/queue?order=best&done=approved"));
    let now = app.get(&format!("/v1/suggestions/{id}")).await.json();
    assert_eq!(now["status"], "approved");
    assert_eq!(now["rationale"], "Both work on 3D heritage.");
    assert_eq!(now["decided_by"], format!("user:{}", staff.id));

    // Reject without a reason: the form again (422), nothing decided; with one: rejected.
    let second = &items[1];
    let id2 = second["id"].as_str().unwrap();
    let v2 = second["version"].as_i64().unwrap().to_string();
    let path = format!("/console/suggestions/{id2}/decision");
    let missing = browser.post(&path, &[("decision", "reject"), ("version", &v2)]).await;
    assert_eq!(missing.status, 422);
    assert!(missing.text().contains("Give a reason"));
    assert_eq!(app.get(&format!("/v1/suggestions/{id2}")).await.json()["status"], "pending");
    let rejected = browser.post(&path, &[("decision", "reject"), ("version", &v2), ("reason", "Competitors")]).await;
    assert_eq!(rejected.status, 303);
    let now = app.get(&format!("/v1/suggestions/{id2}")).await.json();
    assert_eq!((now["status"].as_str(), now["decision_reason"].as_str()), (Some("rejected"), Some("Competitors")));

    // Approve a selection.
    let rest: Vec<String> =
        items[2..].iter().map(|s| format!("{}:{}", s["id"].as_str().unwrap(), s["version"])).collect();
    let mut fields: Vec<(&str, &str)> = rest.iter().map(|p| ("pick", p.as_str())).collect();
    fields.push(("back", "/console/queue"));
    let bulk = browser.post("/console/queue/decisions", &fields).await;
    assert_eq!(bulk.status, 303, "{}", bulk.text());
    let after = browser.get("/console/queue").await;
    assert!(attrs(&after.text(), "ol.queue > li.item", "data-id").is_empty(), "the queue is empty");
    assert!(after.text().contains("Nothing is waiting for review."));

    // In French, with the reader's choice kept.
    let french = browser.post("/console/language", &[("lang", "fr"), ("back", "/console/queue")]).await;
    assert_eq!(french.status, 303);
    let request = reqwest::Client::new()
        .get(app.url("/console/queue"))
        .header("cookie", format!("mm_console={}; mm_lang=fr", browser.cookie.clone().unwrap()));
    let page = request.send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<html lang=\"fr\">") && page.contains("File de revue"), "{page}");
}

async fn a_colleagues_decision_is_shown_not_overwritten(app: TestApp) {
    let items = pending(&app).await;
    let (mut alice, _) = Console::staff(&app).await;
    let (mut bob, bob_account) = Console::staff(&app).await;
    alice.get("/console/queue").await;
    bob.get("/console/queue").await;
    let id = items[0]["id"].as_str().unwrap();
    let version = items[0]["version"].as_i64().unwrap().to_string();
    let path = format!("/console/suggestions/{id}/decision");
    assert_eq!(
        bob.post(&path, &[("decision", "reject"), ("version", &version), ("reason", "Not now")]).await.status,
        303
    );
    // Alice decides on the version she read: refused, and shown Bob's decision.
    let late = alice.post(&path, &[("decision", "approve"), ("version", &version)]).await;
    assert_eq!(late.status, 409, "{}", late.text());
    let html = late.text();
    assert!(html.contains("A colleague decided this suggestion"));
    assert!(html.contains(&format!("user:{}", bob_account.id)) && html.contains("Not now"), "{html}");
    let now = app.get(&format!("/v1/suggestions/{id}")).await.json();
    assert_eq!((now["status"].as_str(), now["decision_reason"].as_str()), (Some("rejected"), Some("Not now")));
    // In a selection too: the others are approved, this one is listed and left alone.
    let others: Vec<String> =
        items[1..3].iter().map(|s| format!("{}:{}", s["id"].as_str().unwrap(), s["version"])).collect();
    let stale = format!("{id}:{version}");
    let fields = [("pick", stale.as_str()), ("pick", others[0].as_str()), ("pick", others[1].as_str())];
    let bulk = alice.post("/console/queue/decisions", &fields).await;
    assert_eq!(bulk.status, 409);
    assert!(bulk.text().contains("2 approved"), "{}", bulk.text());
    assert_eq!(app.get(&format!("/v1/suggestions/{id}")).await.json()["status"], "rejected");
}

async fn the_one_time_password_is_changed_first(app: TestApp) {
    // An account whose password an administrator reset: every page sends to the password form first.
    let staff = app.user(Role::Staff, None);
    let reset = app.post(&format!("/v1/users/{}/password-reset", staff.id), &json!({})).await;
    assert_eq!(reset.status, 200, "{}", reset.text());
    let one_time = reset.json()["one_time_password"].as_str().unwrap().to_owned();
    let mut browser = Console::new(&app);
    assert_eq!(browser.sign_in(&staff.email, &one_time).await.status, 303);
    let queue = browser.get("/console/queue").await;
    assert_eq!(queue.header("location").unwrap(), "/console/password");
    let form = browser.get("/console/password").await;
    assert!(form.text().contains("one-time password"));
    let new = "amber-quarry-whistles-74";
    let mismatch = browser
        .post("/console/password", &[("current", &one_time), ("new", new), ("again", "other-words-entirely-9")])
        .await;
    assert_eq!(mismatch.status, 422);
    let weak =
        browser.post("/console/password", &[("current", &one_time), ("new", "password"), ("again", "password")]).await;
    assert_eq!(weak.status, 422);
    let changed = browser.post("/console/password", &[("current", &one_time), ("new", new), ("again", new)]).await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    // Still signed in (a new session), and the queue opens now; the API's old tokens are revoked.
    assert_eq!(browser.get("/console/queue").await.status, 200);
    assert_eq!(app.as_(&staff.token).get("/v1/review/queue").await.status, 401);
    let mut again = Console::new(&app);
    assert_eq!(again.sign_in(&staff.email, new).await.status, 303);
}

async fn signing_in_shares_the_token_endpoints_limits_and_audit(app: TestApp) {
    let staff = app.user(Role::Staff, None);
    let limited = app.reopen_with(|s| s.auth.failures_per_account = 2).await;
    let mut browser = Console::new(&limited);
    for _ in 0..2 {
        assert_eq!(browser.sign_in(&staff.email, "wrong-password").await.status, 401);
    }
    // The account is now over its limit at the token endpoint too, and at the console even with the right password.
    let token = limited
        .token_request(&[("grant_type", "password"), ("username", &staff.email), ("password", FIXTURE_PASSWORD)])
        .await;
    assert_eq!(token.status, 429, "{}", token.text());
    let waiting = browser.sign_in(&staff.email, FIXTURE_PASSWORD).await;
    assert_eq!(waiting.status, 429);
    assert!(waiting.header("retry-after").is_some());
    assert!(browser.cookie.is_none());
    // Each failure is in the audit log, as the token endpoint's are.
    let audit = app.get(&format!("/v1/audit?action=auth.sign_in_failed&target=user:{}", staff.id)).await;
    assert_eq!(audit.json()["items"].as_array().unwrap().len(), 2, "{}", audit.text());
}
