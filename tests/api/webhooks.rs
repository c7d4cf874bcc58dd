//! Webhooks for partner portals, end to end on both backends, with a receiver on loopback: deliveries signed and
//! verifiable with the secret (and with the previous one during a rotation), a failure retried under the same id,
//! nothing about unlinked members or without the read scope, an endpoint disabled after failing and enabled again,
//! no attempt sent twice by two instances, and targets refused (a name resolving to a private address, a redirect).

use std::sync::{Arc, Mutex};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::TimeDelta;
use matchmaker::auth::ClientScope;
use matchmaker::clock::Clock;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::helpers::{Portal, TestApp, studio};
use crate::on_both_backends;

on_both_backends!(
    deliveries_are_signed_and_verify_with_the_secret_and_during_rotation_the_previous_one,
    a_failed_delivery_is_retried_with_the_same_id_after_a_doubling_wait_and_can_be_resent,
    nothing_is_sent_about_unlinked_members_or_without_the_read_scope,
    an_endpoint_failing_for_the_span_is_disabled_with_the_reason_and_enabled_again,
    two_instances_never_send_the_same_attempt,
    targets_are_refused_by_address_scheme_and_redirect,
    suggestion_events_show_the_other_member_only_as_its_public_card,
    a_digest_sent_tells_of_each_suggestion_it_delivered,
);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

#[derive(Debug, Default)]
struct ReceiverState {
    got: Vec<Received>,
    /// Statuses to answer, in turn; then 204.
    answers: Vec<u16>,
    /// Answer every request with a redirect to `/elsewhere`.
    redirect: bool,
}

/// A webhook receiver on loopback.
#[derive(Clone)]
struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        Self { url, state }
    }

    fn got(&self) -> Vec<Received> {
        self.state.lock().unwrap().got.clone()
    }

    fn answer(&self, statuses: &[u16]) {
        self.state.lock().unwrap().answers = statuses.to_vec();
    }
}

async fn serve(mut socket: tokio::net::TcpStream, state: Arc<Mutex<ReceiverState>>) -> std::io::Result<()> {
    let Some(request) = crate::helpers::read_request(&mut socket).await? else { return Ok(()) };
    let received = Received {
        path: request.target(),
        id: request.header("webhook-id"),
        timestamp: request.header("webhook-timestamp"),
        signature: request.header("webhook-signature"),
        body: request.body,
    };
    let (status, redirect) = {
        let mut s = state.lock().unwrap();
        s.got.push(received);
        let status = if s.answers.is_empty() { 204 } else { s.answers.remove(0) };
        (status, s.redirect)
    };
    let response = if redirect {
        "HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
    } else {
        let text = if status == 204 { String::new() } else { "receiver says no".to_owned() };
        format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}", text.len())
    };
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await
}

/// Whether `signature` (a `webhook-signature` header) holds a signature made with `secret`, checked as a portal
/// would: HMAC-SHA256 over `id.timestamp.body` with the secret's bytes after `whsec_`.
fn verifies(secret: &str, r: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let signed = format!("{}.{}.{}", r.id, r.timestamp, r.body);
    r.signature.split(' ').any(|s| {
        let tag = STANDARD.decode(s.strip_prefix("v1,").unwrap_or("")).unwrap_or_default();
        hmac::verify(&key, signed.as_bytes(), &tag).is_ok()
    })
}

const ALL_READ: [ClientScope; 4] = [
    ClientScope::MembersRead,
    ClientScope::SuggestionsRead,
    ClientScope::SuggestionsReact,
    ClientScope::WebhooksManage,
];

async fn member(app: &TestApp, name: &str) -> Uuid {
    let mut body = studio(name);
    body["contact_email"] = json!(format!("hello-{}@{}.example.lu", Uuid::new_v4().simple(), name.to_lowercase()));
    let (created, _, _) = app.create_member(&body).await;
    created["id"].as_str().unwrap().parse().unwrap()
}

/// Register an endpoint for `portal`: its id and secret.
async fn register(app: &TestApp, portal: &Portal, url: &str, events: &[&str]) -> (String, String) {
    let r = app.as_(&portal.token).post("/v1/webhooks", &json!({"url": url, "events": events})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let body = r.json();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(!body["endpoint"].to_string().contains(&secret), "the endpoint never shows its secret");
    (body["endpoint"]["id"].as_str().unwrap().to_owned(), secret)
}

/// The portal with a token issued now (after the clock moved, or its scopes changed).
async fn fresh(app: &TestApp, portal: &Portal) -> Portal {
    let r = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &portal.client_id),
            ("client_secret", &portal.secret),
        ])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    Portal { token: r.json()["access_token"].as_str().unwrap().to_owned(), ..portal.clone() }
}

async fn change_city(app: &TestApp, id: Uuid, city: &str) {
    let r = app.patch(&format!("/v1/members/{id}"), &json!({"city": city}), "*").await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// One sending pass of `app`.
async fn deliver(app: &TestApp) -> matchmaker::webhook::send::Sent {
    app.jobs.deliver_webhooks().await.unwrap()
}

async fn log(app: &TestApp, portal: &Portal, endpoint: &str) -> Vec<Value> {
    let r = app.as_(&portal.token).get(&format!("/v1/webhooks/{endpoint}/deliveries")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

async fn deliveries_are_signed_and_verify_with_the_secret_and_during_rotation_the_previous_one(app: TestApp) {
    let receiver = Receiver::start().await;
    let a = member(&app, "Aurore").await;
    let portal = app.portal(&ALL_READ, &[a]);
    let (endpoint, secret) = register(&app, &portal, &receiver.url, &["member.updated"]).await;
    change_city(&app, a, "Differdange").await;
    let sent = deliver(&app).await;
    assert_eq!(sent.sent, 1, "{sent:?}");
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    let first = &got[0];
    assert!(verifies(&secret, first), "the signature verifies with the secret: {first:?}");
    assert!(first.signature.starts_with("v1,") && !first.signature.contains(' '), "one signature: {first:?}");
    assert_eq!(first.timestamp, app.clock.now().timestamp().to_string());
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["type"], "member.updated");
    assert_eq!(body["data"]["member_id"], a.to_string());
    assert_eq!(body["data"]["changed"], json!({"city": "Differdange"}), "what changed, and only that");
    assert!(body["timestamp"].is_string());
    let entries = log(&app, &portal, &endpoint).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], first.id.as_str(), "the log names the delivery by its webhook-id");
    assert_eq!((entries[0]["status"].as_str(), entries[0]["last_status"].as_i64()), (Some("sent"), Some(204)));
    assert_eq!(entries[0]["body"], body);

    // A rotation: for the grace period both secrets sign each delivery.
    let r = app.as_(&portal.token).post(&format!("/v1/webhooks/{endpoint}/secret"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let new_secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(r.json()["endpoint"]["previous_secret_until"].is_string());
    change_city(&app, a, "Dudelange").await;
    deliver(&app).await;
    let second = receiver.got()[1].clone();
    assert_eq!(second.signature.split(' ').count(), 2, "two signatures during the grace period: {second:?}");
    assert!(verifies(&new_secret, &second) && verifies(&secret, &second), "each secret verifies it");
    assert!(!verifies(&matchmaker::webhook::sign::new_secret().unwrap(), &second), "another secret does not");
    // After the grace period, only the new secret signs.
    app.clock.advance(TimeDelta::hours(25));
    change_city(&app, a, "Wiltz").await;
    deliver(&app).await;
    let third = receiver.got()[2].clone();
    assert!(verifies(&new_secret, &third) && !verifies(&secret, &third), "{third:?}");
    assert_eq!(third.signature.split(' ').count(), 1);
    assert_ne!(third.id, second.id, "each event is its own delivery");

    // The log is kept as long as the bodies of sent mail (MATCHMAKER_RETAIN_MAIL_DAYS), then purged.
    use matchmaker::scheduler::Job;
    let purge = async |app: &TestApp| {
        let period = Job::Retention.period_of(app.clock.now(), chrono_tz::Europe::Luxembourg);
        app.jobs.run_period(Job::Retention, period, false).await.unwrap()
    };
    app.clock.advance(TimeDelta::days(88));
    purge(&app).await;
    let portal = fresh(&app, &portal).await;
    assert_eq!(log(&app, &portal, &endpoint).await.len(), 3, "kept 90 days");
    app.clock.advance(TimeDelta::days(3));
    purge(&app).await;
    let portal = fresh(&app, &portal).await;
    assert!(log(&app, &portal, &endpoint).await.is_empty(), "purged after 90 days");
}

/// Make every queued delivery due now, as if its wait had passed.
fn make_due(app: &TestApp) {
    use diesel::RunQueryDsl;
    let mut conn = app.pool.get().unwrap();
    let past = chrono::Utc::now().naive_utc() - TimeDelta::hours(1);
    diesel::update(matchmaker::db::schema::webhook_deliveries::table)
        .set(matchmaker::db::schema::webhook_deliveries::next_attempt_at.eq(past))
        .execute(&mut conn)
        .unwrap();
}

use diesel::ExpressionMethods as _;

async fn a_failed_delivery_is_retried_with_the_same_id_after_a_doubling_wait_and_can_be_resent(app: TestApp) {
    let app = app.reopen_with(|s| s.webhooks.retry_seconds = 30).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 503]);
    let a = member(&app, "Aurore").await;
    let portal = app.portal(&ALL_READ, &[a]);
    let (endpoint, secret) = register(&app, &portal, &receiver.url, &["member.updated"]).await;
    change_city(&app, a, "Differdange").await;
    assert_eq!(deliver(&app).await.retrying, 1);
    let entry = log(&app, &portal, &endpoint).await[0].clone();
    assert_eq!((entry["status"].as_str(), entry["attempts"].as_i64()), (Some("queued"), Some(1)), "{entry}");
    assert_eq!(entry["last_status"], 500);
    assert!(entry["last_error"].as_str().unwrap().contains("receiver says no"), "{entry}");
    let wait = |e: &Value| {
        let at = |k: &str| chrono::DateTime::parse_from_rfc3339(e[k].as_str().unwrap()).unwrap();
        at("next_attempt_at") - chrono::Utc::now().fixed_offset()
    };
    let first_wait = wait(&entry);
    assert!(first_wait > TimeDelta::seconds(20) && first_wait <= TimeDelta::seconds(30), "{first_wait}");
    assert_eq!(deliver(&app).await, Default::default(), "not due before its wait is over");
    make_due(&app);
    assert_eq!(deliver(&app).await.retrying, 1);
    let entry = log(&app, &portal, &endpoint).await[0].clone();
    let second_wait = wait(&entry);
    assert!(second_wait > TimeDelta::seconds(50) && second_wait <= TimeDelta::seconds(60), "doubled: {second_wait}");
    make_due(&app);
    assert_eq!(deliver(&app).await.sent, 1);
    let got = receiver.got();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.id == got[0].id && r.body == got[0].body), "the same id and body each time");
    assert!(got.iter().all(|r| verifies(&secret, r)));
    let entry = log(&app, &portal, &endpoint).await[0].clone();
    assert_eq!((entry["status"].as_str(), entry["attempts"].as_i64()), (Some("sent"), Some(3)));

    // Resending a delivery that went out sends it again under its id.
    let id = entry["id"].as_str().unwrap();
    let r = app.as_(&portal.token).post(&format!("/v1/webhooks/{endpoint}/deliveries/{id}/resend"), &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["status"], "queued");
    let again =
        app.as_(&portal.token).post(&format!("/v1/webhooks/{endpoint}/deliveries/{id}/resend"), &json!({})).await;
    assert_eq!(again.status, 409, "a queued one goes out anyway: {}", again.text());
    assert_eq!(deliver(&app).await.sent, 1);
    let got = receiver.got();
    assert_eq!((got.len(), got[3].id.as_str(), got[3].body.as_str()), (4, id, got[0].body.as_str()));
    let other = app.portal(&ALL_READ, &[a]);
    let r = app.as_(&other.token).post(&format!("/v1/webhooks/{endpoint}/deliveries/{id}/resend"), &json!({})).await;
    assert_eq!(r.status, 404, "another portal's endpoint is not there for it");
}

async fn nothing_is_sent_about_unlinked_members_or_without_the_read_scope(app: TestApp) {
    let receiver = Receiver::start().await;
    let (a, b) = (member(&app, "Aurore").await, member(&app, "Boreal").await);
    let portal = app.portal(&ALL_READ, &[a]);
    let (endpoint, _) = register(&app, &portal, &receiver.url, &["member.updated", "suggestion.reaction"]).await;
    // A portal without members:read may not ask for member.updated.
    let blind = app.portal(&[ClientScope::SuggestionsRead, ClientScope::WebhooksManage], &[a]);
    let r = app
        .as_(&blind.token)
        .post("/v1/webhooks", &json!({"url": receiver.url, "events": ["suggestion.reaction", "member.updated"]}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.error_pointers(), ["/events/1"]);
    let (blind_endpoint, _) = register(&app, &blind, &receiver.url, &["suggestion.reaction"]).await;
    // Nor without webhooks:manage at all.
    let plain = app.portal(&[ClientScope::MembersRead], &[a]);
    let r =
        app.as_(&plain.token).post("/v1/webhooks", &json!({"url": receiver.url, "events": ["member.updated"]})).await;
    assert_eq!(r.status, 403);

    change_city(&app, b, "Clervaux").await;
    assert_eq!(deliver(&app).await, Default::default(), "B is not linked to the portal");
    assert!(receiver.got().is_empty());
    change_city(&app, a, "Differdange").await;
    assert_eq!(deliver(&app).await.sent, 1, "the portal hears of A; the blind one did not subscribe to it");
    assert!(log(&app, &blind, &blind_endpoint).await.is_empty());

    // The scope taken away after registration: nothing more is sent.
    let r = app
        .patch(
            &format!("/v1/clients/{}", portal.client_id),
            &json!({"scopes": ["suggestions:read", "webhooks:manage"]}),
            "*",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    change_city(&app, a, "Dudelange").await;
    assert_eq!(deliver(&app).await, Default::default());
    // Unlinked: nothing either.
    let r = app
        .patch(
            &format!("/v1/clients/{}", portal.client_id),
            &json!({"scopes": ["members:read", "webhooks:manage"]}),
            "*",
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app.delete(&format!("/v1/members/{a}/portals/{}", portal.client_id), "*").await;
    assert_eq!(r.status, 204, "{}", r.text());
    change_city(&app, a, "Wiltz").await;
    assert_eq!(deliver(&app).await, Default::default());
    assert_eq!(receiver.got().len(), 1);
    let portal = fresh(&app, &portal).await;
    let bodies: Vec<Value> = receiver.got().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert!(bodies.iter().all(|b| b["data"]["member_id"] == a.to_string()));
    assert_eq!(log(&app, &portal, &endpoint).await.len(), 1);

    // Queued while linked, unlinked before it went out: it is withheld, and the log says why.
    let link = format!("/v1/members/{a}/portals/{}", portal.client_id);
    let r = app.send(app.request(reqwest::Method::PUT, &link)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    change_city(&app, a, "Remich").await;
    assert_eq!(app.delete(&link, "*").await.status, 204);
    let pass = deliver(&app).await;
    assert_eq!((pass.sent, pass.failed), (0, 1), "{pass:?}");
    assert_eq!(receiver.got().len(), 1, "nothing more reached the receiver");
    let newest = log(&app, &portal, &endpoint).await[0].clone();
    assert_eq!(newest["status"], "failed");
    assert!(newest["last_error"].as_str().unwrap().contains("no longer linked"), "{newest}");
}

async fn an_endpoint_failing_for_the_span_is_disabled_with_the_reason_and_enabled_again(app: TestApp) {
    let app = app.reopen_with(|s| s.webhooks.disable_after = std::time::Duration::from_secs(3600)).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[500; 6]);
    let a = member(&app, "Aurore").await;
    let portal = app.portal(&ALL_READ, &[a]);
    let (endpoint, _) = register(&app, &portal, &receiver.url, &["member.updated"]).await;
    change_city(&app, a, "Differdange").await;
    assert_eq!(deliver(&app).await.retrying, 1);
    app.clock.advance(TimeDelta::minutes(59));
    assert_eq!(deliver(&app).await.disabled, 0, "not yet failing for the whole span");
    app.clock.advance(TimeDelta::minutes(2));
    change_city(&app, a, "Dudelange").await;
    let pass = deliver(&app).await;
    assert_eq!(pass.disabled, 1, "{pass:?}");
    let portal = fresh(&app, &portal).await;
    let shown = app.as_(&portal.token).get(&format!("/v1/webhooks/{endpoint}")).await.json();
    assert_eq!(shown["enabled"], false);
    let reason = shown["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("failing without a success since") && reason.contains("500"), "{reason}");
    let tried = receiver.got().len();
    assert_eq!(deliver(&app).await, Default::default(), "a disabled endpoint is sent nothing");
    change_city(&app, a, "Wiltz").await;
    assert_eq!(receiver.got().len(), tried);

    // The portal enables it again: what was queued goes out, and the reason is gone.
    receiver.answer(&[]);
    let r = app.as_(&portal.token).patch(&format!("/v1/webhooks/{endpoint}"), &json!({"enabled": true}), "*").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json()["enabled"].as_bool(), r.json()["disabled_reason"].is_null()), (Some(true), true));
    let pass = deliver(&app).await;
    assert_eq!(pass.sent, 2, "both queued deliveries (the event while disabled was not queued): {pass:?}");
    let entries = log(&app, &portal, &endpoint).await;
    assert!(entries.iter().all(|e| e["status"] == "sent"), "{entries:?}");
    // An administrator may disable it, and nothing else.
    let r = app.patch(&format!("/v1/webhooks/{endpoint}"), &json!({"enabled": false}), "*").await;
    assert_eq!((r.status, r.json()["disabled_reason"].as_str()), (200, Some("disabled by an administrator")));
    let r = app.patch(&format!("/v1/webhooks/{endpoint}"), &json!({"enabled": true}), "*").await;
    assert_eq!(r.status, 403);
}

async fn two_instances_never_send_the_same_attempt(app: TestApp) {
    let other = app.reopen().await;
    let receiver = Receiver::start().await;
    let a = member(&app, "Aurore").await;
    let portal = app.portal(&ALL_READ, &[a]);
    let (endpoint, _) = register(&app, &portal, &receiver.url, &["member.updated"]).await;
    for i in 0..12 {
        change_city(&app, a, &format!("Ville {i}")).await;
    }
    let (one, two) = tokio::join!(deliver(&app), deliver(&other));
    assert_eq!(one.sent + two.sent, 12, "{one:?} {two:?}");
    let mut ids: Vec<String> = receiver.got().iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 12, "every delivery once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "no delivery twice");
    assert!(log(&app, &portal, &endpoint).await.iter().all(|e| e["attempts"] == 1));

    // A delivery leased to an instance (which, say, died while sending) is not sent by another until the lease runs
    // out; then it is, under the same id.
    change_city(&app, a, "Vianden").await;
    let leased = {
        let mut conn = app.pool.get().unwrap();
        let now = matchmaker::db::db_now(&mut conn).unwrap();
        let row = matchmaker::db::webhooks::claim_due(&mut conn, "gone-instance", now, TimeDelta::minutes(1), &[])
            .unwrap()
            .expect("the new delivery is due");
        row.id
    };
    let (one, two) = tokio::join!(deliver(&app), deliver(&other));
    assert_eq!((one, two), (Default::default(), Default::default()), "the lease holds");
    {
        use diesel::RunQueryDsl;
        let mut conn = app.pool.get().unwrap();
        let past = chrono::Utc::now().naive_utc() - TimeDelta::minutes(5);
        diesel::update(matchmaker::db::schema::webhook_deliveries::table)
            .set(matchmaker::db::schema::webhook_deliveries::lease_until.eq(past))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(deliver(&other).await.sent, 1, "the lease ran out: another instance sends it");
    let got = receiver.got();
    assert_eq!((got.len(), got[12].id.as_str()), (13, leased.as_str()));
}

async fn targets_are_refused_by_address_scheme_and_redirect(app: TestApp) {
    let app = app
        .reopen_with(|s| {
            s.webhooks.lookup = matchmaker::outbound::Lookup::fixed(&[
                ("hooks.internal.example", "10.0.0.7".parse().unwrap()),
                ("metadata.example", "169.254.169.254".parse().unwrap()),
            ]);
        })
        .await;
    let receiver = Receiver::start().await;
    let a = member(&app, "Aurore").await;
    let portal = app.portal(&ALL_READ, &[a]);
    for (url, why) in [
        ("http://10.0.0.5/hook", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::ffff:192.168.1.1]/hook", "private"),
        ("http://portal.example.lu/hook", "https"),
        ("ftp://portal.example.lu/hook", "https"),
    ] {
        let r = app.as_(&portal.token).post("/v1/webhooks", &json!({"url": url, "events": ["member.updated"]})).await;
        assert_eq!(r.status, 422, "{url}: {}", r.text());
        assert_eq!(r.error_pointers(), ["/url"], "{url}");
        assert!(r.text().contains(why), "{url}: {}", r.text());
    }
    // A name is checked when the connection is made: one resolving to a private address is refused then.
    let (internal, _) = register(&app, &portal, "https://hooks.internal.example/hook", &["member.updated"]).await;
    let (metadata, _) = register(&app, &portal, "https://metadata.example/x", &["member.updated"]).await;
    receiver.state.lock().unwrap().redirect = true;
    let (redirecting, _) = register(&app, &portal, &receiver.url, &["member.updated"]).await;
    change_city(&app, a, "Differdange").await;
    let pass = deliver(&app).await;
    assert_eq!(pass.retrying, 3, "{pass:?}");
    let internal_log = log(&app, &portal, &internal).await;
    let why = internal_log[0]["last_error"].as_str().unwrap();
    assert!(why.contains("10.0.0.7") && why.contains("private"), "{why}");
    assert!(internal_log[0]["last_status"].is_null());
    let metadata_log = log(&app, &portal, &metadata).await;
    assert!(metadata_log[0]["last_error"].as_str().unwrap().contains("link-local"), "{metadata_log:?}");
    let redirect_log = log(&app, &portal, &redirecting).await;
    assert_eq!(redirect_log[0]["last_status"], 302);
    assert!(redirect_log[0]["last_error"].as_str().unwrap().contains("redirects are not followed"));
    let paths: Vec<String> = receiver.got().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/hook"], "the redirect is not followed");
}

/// A suggestion of partner `b` to `a`, approved by staff, written straight to the database: its id.
fn approved_suggestion(app: &TestApp, a: Uuid, b: Uuid) -> String {
    use matchmaker::db::runs;
    use matchmaker::db::suggestions::{self, SuggestionRow};
    use matchmaker::domain::version::Precondition;
    use matchmaker::review::{Decision, SuggestionKind};

    let now = app.clock.now();
    let mut conn = app.pool.get().unwrap();
    let run = Uuid::now_v7().to_string();
    runs::insert(&mut conn, &run, "user:test", now).unwrap();
    let row = SuggestionRow::new_pending(
        SuggestionKind::Partner,
        a,
        b.to_string(),
        None,
        Some(b),
        &run,
        72.0,
        json!({"components": [], "matched": [], "missing": []}).to_string(),
        "You complement each other.".to_owned(),
        now,
    );
    suggestions::insert(&mut conn, &row, "run:test").unwrap();
    let yes = Decision { approve: true, reason: None, rationale: None };
    suggestions::decide(&mut conn, &row.id, &Precondition::Any, &yes, "user:test", now).unwrap();
    row.id
}

async fn a_digest_sent_tells_of_each_suggestion_it_delivered(app: TestApp) {
    use matchmaker::scheduler::Job;
    let sink = crate::smtp_sink::Sink::start(crate::smtp_sink::Behaviour::default()).await;
    let url = sink.url();
    let app = app
        .reopen_with(move |s| {
            s.mail.smtp_url = Some(url);
            s.mail.public_url = "https://matchmaker.example.lu".to_owned();
            s.mail.public_url_set = true;
        })
        .await;
    let receiver = Receiver::start().await;
    let (a, b) = (member(&app, "Aurore").await, member(&app, "Boreal").await);
    let portal = app.portal(&ALL_READ, &[a]);
    register(&app, &portal, &receiver.url, &["suggestion.delivered"]).await;
    let suggestion = approved_suggestion(&app, a, b);
    let week = matchmaker::digest::IsoWeek::of(app.clock.now(), chrono_tz::Europe::Luxembourg).to_string();
    app.jobs.run_period(Job::Digest, week, true).await.unwrap();
    assert_eq!(sink.wait_for(1, std::time::Duration::from_secs(10)).await.len(), 1, "A's digest went out");
    assert_eq!(deliver(&app).await.sent, 1);
    let body: Value = serde_json::from_str(&receiver.got()[0].body).unwrap();
    assert_eq!(body["type"], "suggestion.delivered");
    assert_eq!(body["data"]["member_id"], a.to_string());
    assert_eq!(body["data"]["suggestion"]["id"], suggestion.as_str());
    assert_eq!(body["data"]["suggestion"]["status"], "delivered");
    assert!(!body.to_string().contains(&b.to_string()), "never B's id");
}

async fn suggestion_events_show_the_other_member_only_as_its_public_card(app: TestApp) {
    let receiver = Receiver::start().await;
    let (a, b) = (member(&app, "Aurore").await, member(&app, "Boreal").await);
    let b_profile = app.get(&format!("/v1/members/{b}")).await.json();
    let portal = app.portal(&ALL_READ, &[a]);
    let (endpoint, _) = register(
        &app,
        &portal,
        &receiver.url,
        &["member.updated", "suggestion.reaction", "suggestion.outcome", "introduction.requested", "introduction.done"],
    )
    .await;
    let suggestion = approved_suggestion(&app, a, b);
    let as_portal = app.as_(&portal.token);
    let r = as_portal.post(&format!("/v1/suggestions/{suggestion}/reaction"), &json!({"reaction": "contacted"})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = as_portal.post(&format!("/v1/suggestions/{suggestion}/outcomes"), &json!({"outcome": "met"})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = as_portal.post(&format!("/v1/suggestions/{suggestion}/introduction"), &json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(deliver(&app).await.sent, 3);
    let bodies: Vec<Value> = receiver.got().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["suggestion.reaction", "suggestion.outcome", "introduction.requested"]);
    assert_eq!(bodies[0]["data"]["suggestion"]["reaction"], "contacted");
    assert_eq!(bodies[1]["data"]["suggestion"]["outcomes"][0]["outcome"], "met");
    assert!(bodies[2]["data"]["suggestion"]["introduction"].is_object());
    for body in &bodies {
        assert_eq!(body["data"]["member_id"], a.to_string());
        assert_eq!(body["data"]["suggestion"]["partner"]["name"], b_profile["name"], "B as the card members see");
        let text = body.to_string();
        assert!(!text.contains(&b.to_string()), "never B's id: {text}");
        assert!(!text.contains(b_profile["contact_email"].as_str().unwrap()), "never B's e-mail: {text}");
    }
    // Staff introduce them (after B's consent): introduction.done.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.pool.get().unwrap();
        diesel::update(matchmaker::db::schema::introductions::table)
            .set(matchmaker::db::schema::introductions::status.eq("requested"))
            .execute(&mut conn)
            .unwrap();
    }
    let intro =
        app.get("/v1/introductions?status=requested").await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app.post(&format!("/v1/introductions/{intro}/introduce"), &json!({"message": "Meet."})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(deliver(&app).await.sent, 1);
    let done: Value = serde_json::from_str(&receiver.got()[3].body).unwrap();
    assert_eq!(done["type"], "introduction.done");
    assert_eq!(done["data"]["suggestion"]["introduction"]["status"], "introduced");

    // B erased: no delivery that showed its card is kept, and A's log no longer holds its name.
    let r = app.delete(&format!("/v1/members/{b}"), "*").await;
    assert_eq!(r.status, 204, "{}", r.text());
    let kept = log(&app, &portal, &endpoint).await;
    assert!(kept.is_empty(), "every delivery showed B's card: {kept:?}");
    // A erased: nothing about A is kept either.
    change_city(&app, a, "Wiltz").await;
    let about_a = matchmaker::db::webhooks::deliveries_about(&mut app.pool.get().unwrap(), &a.to_string()).unwrap();
    assert_eq!(about_a.len(), 1, "the member.updated delivery about A");
    let r = app.delete(&format!("/v1/members/{a}"), "*").await;
    assert_eq!(r.status, 204);
    let mut conn = app.pool.get().unwrap();
    let left = matchmaker::db::webhooks::deliveries_about(&mut conn, &a.to_string()).unwrap();
    assert!(left.is_empty(), "{left:?}");
}
