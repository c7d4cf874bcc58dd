//! Signing in, tokens, keys, passwords, accounts, clients, links and the audit trail.

use chrono::TimeDelta;
use matchmaker::auth::keys::generate_pem;
use matchmaker::auth::{ClientScope, Role};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{FIXTURE_PASSWORD, Reply, TestApp, studio};
use crate::on_both_backends;

on_both_backends!(
    people_sign_in_and_failures_look_alike,
    portals_sign_in_with_client_credentials,
    rotated_keys_keep_old_tokens_valid,
    one_time_passwords_must_be_changed,
    admins_manage_accounts,
    admins_manage_clients,
    members_link_portals_and_everything_is_audited,
    portals_and_members_see_only_their_own,
    sign_in_is_rate_limited,
    revocation_reaches_every_instance,
);

fn oauth_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.json()["error"], error, "{}", reply.text());
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
}

async fn people_sign_in_and_failures_look_alike(app: TestApp) {
    let staff = app.user(Role::Staff, None);
    let reply = app
        .token_request(&[("grant_type", "password"), ("username", &staff.email), ("password", FIXTURE_PASSWORD)])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.as_(token).get("/v1/audit").await.status, 200);

    // JSON is accepted too, and e-mail case does not matter.
    let json_reply = app
        .send(app.client.post(app.url("/v1/auth/token")).json(&json!({
            "grant_type": "password", "username": staff.email.to_uppercase(), "password": FIXTURE_PASSWORD
        })))
        .await;
    assert_eq!(json_reply.status, 200, "{}", json_reply.text());

    let wrong = app
        .token_request(&[("grant_type", "password"), ("username", &staff.email), ("password", "not-it-at-all")])
        .await;
    let unknown = app
        .token_request(&[("grant_type", "password"), ("username", "nobody@example.org"), ("password", "not-it-at-all")])
        .await;
    oauth_error(&wrong, 400, "invalid_grant");
    assert_eq!(wrong.body, unknown.body, "unknown e-mail and wrong password answer alike");
    let names = |r: &Reply| {
        let mut v: Vec<String> = r.headers.keys().map(|k| k.to_string()).filter(|k| k != "date").collect();
        v.sort();
        v
    };
    assert_eq!(names(&wrong), names(&unknown));

    oauth_error(&app.token_request(&[("grant_type", "magic")]).await, 400, "unsupported_grant_type");
    oauth_error(&app.token_request(&[("username", "x")]).await, 400, "invalid_request");
    oauth_error(&app.token_request(&[("grant_type", "password"), ("username", "x")]).await, 400, "invalid_request");
    let plain = app
        .send(
            app.client.post(app.url("/v1/auth/token")).header("content-type", "text/plain").body("grant_type=password"),
        )
        .await;
    oauth_error(&plain, 400, "invalid_request");

    // A disabled account cannot sign in, and answers like a wrong password.
    let path = format!("/v1/users/{}", staff.id);
    assert_eq!(app.patch(&path, &json!({"disabled": true}), "*").await.status, 200);
    let disabled = app
        .token_request(&[("grant_type", "password"), ("username", &staff.email), ("password", FIXTURE_PASSWORD)])
        .await;
    oauth_error(&disabled, 400, "invalid_grant");
    assert_eq!(disabled.body, unknown.body);
}

async fn portals_sign_in_with_client_credentials(app: TestApp) {
    let portal = app.portal(&[ClientScope::MembersRead, ClientScope::MembersWrite], &[]);
    let ok = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &portal.client_id),
            ("client_secret", &portal.secret),
        ])
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["scope"], "members:read members:write");

    // HTTP Basic, with a narrower scope.
    let basic = app
        .send(
            app.client
                .post(app.url("/v1/auth/token"))
                .basic_auth(&portal.client_id, Some(&portal.secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "members:read")]),
        )
        .await;
    assert_eq!(basic.status, 200, "{}", basic.text());
    assert_eq!(basic.json()["scope"], "members:read");
    let read_only = basic.json()["access_token"].as_str().unwrap().to_owned();
    let created = app.as_(&read_only).post("/v1/members", &studio("Read Only")).await;
    assert_eq!(created.status, 403, "a token narrowed to members:read cannot write");

    let wider = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &portal.client_id),
            ("client_secret", &portal.secret),
            ("scope", "suggestions:react"),
        ])
        .await;
    oauth_error(&wider, 400, "invalid_scope");

    let wrong_basic = app
        .send(
            app.client
                .post(app.url("/v1/auth/token"))
                .basic_auth(&portal.client_id, Some("wrong"))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    oauth_error(&wrong_basic, 401, "invalid_client");
    assert!(wrong_basic.header("www-authenticate").unwrap().starts_with("Basic"));
    let unknown = app
        .token_request(&[("grant_type", "client_credentials"), ("client_id", "mmc_nope"), ("client_secret", "x")])
        .await;
    oauth_error(&unknown, 401, "invalid_client");

    // A portal's token creates members linked to it, and it sees them.
    let token = ok.json()["access_token"].as_str().unwrap().to_owned();
    let created = app.as_(&token).post("/v1/members", &studio("Portal Made")).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let listed = app.as_(&token).get("/v1/members").await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let client = app.get(&format!("/v1/clients/{}", portal.client_id)).await.json();
    assert_eq!(client["members"], json!([created.json()["id"]]));
}

async fn rotated_keys_keep_old_tokens_valid(app: TestApp) {
    let old_token = app.admin.token.clone();
    let old_kid = app.keys.signer.kid.clone();
    let new_key = generate_pem().unwrap();
    let old_key = app.db.key_pem.clone();
    let rotated = app
        .reopen_with(|s| {
            s.auth.signing_key = Some(new_key.clone());
            s.auth.previous_keys = old_key.clone();
        })
        .await;
    assert_eq!(rotated.as_(&old_token).get("/v1/audit").await.status, 200, "the previous key still verifies");
    let jwks = rotated.anonymous().get("/.well-known/jwks.json").await.json();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&old_kid.as_str()));
    let fresh = rotated.sign_in(&app.admin.email, FIXTURE_PASSWORD).await;
    let header = jsonwebtoken::decode_header(&fresh).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kids[0]), "the new key signs");
    assert_ne!(kids[0], old_kid);
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);

    // Once the previous key is dropped from the configuration, its tokens stop working.
    let retired = app.reopen_with(|s| s.auth.signing_key = Some(new_key.clone())).await;
    assert_eq!(retired.as_(&old_token).get("/v1/audit").await.status, 401);
    assert_eq!(retired.as_(&fresh).get("/v1/audit").await.status, 200);
}

async fn one_time_passwords_must_be_changed(app: TestApp) {
    let created = app.post("/v1/users", &json!({"email": "new.staff@example.org", "role": "staff"})).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    assert_eq!(body["user"]["must_change_password"], true);
    let one_time = body["one_time_password"].as_str().unwrap().to_owned();
    let token = app.sign_in("new.staff@example.org", &one_time).await;
    let blocked = app.as_(&token).get("/v1/audit").await;
    assert_eq!(blocked.status, 403);
    assert!(blocked.text().contains("one-time password"), "{}", blocked.text());

    let change = async |current: &str, new: &str| {
        app.as_(&token).post("/v1/auth/password", &json!({"current_password": current, "new_password": new})).await
    };
    let weak = change(&one_time, "password1234").await;
    assert_eq!(weak.status, 422);
    assert_eq!(weak.error_pointers(), ["/new_password"]);
    assert_eq!(change(&one_time, "short").await.error_pointers(), ["/new_password"]);
    let wrong = change("not-the-current-one", "amber-falcon-sings-softly").await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.error_pointers(), ["/current_password"]);
    assert_eq!(change(&one_time, "amber-falcon-sings-softly").await.status, 204);
    assert_eq!(app.as_(&token).get("/v1/audit").await.status, 401, "a password change ends earlier tokens");
    let token = app.sign_in("new.staff@example.org", "amber-falcon-sings-softly").await;
    assert_eq!(app.as_(&token).get("/v1/audit").await.status, 200);

    // An admin's reset gives a new one-time password and ends the account's tokens.
    let id = body["user"]["id"].as_str().unwrap();
    let reset = app.post(&format!("/v1/users/{id}/password-reset"), &json!({})).await;
    assert_eq!(reset.status, 200);
    assert_eq!(app.as_(&token).get("/v1/audit").await.status, 401);
    let again = app.sign_in("new.staff@example.org", reset.json()["one_time_password"].as_str().unwrap()).await;
    assert_eq!(app.as_(&again).get("/v1/audit").await.status, 403);
    // Not one's own: an administrator changes its own password with the current one, and keeps its tokens here.
    let own = app.post(&format!("/v1/users/{}/password-reset", app.admin.id), &json!({})).await;
    assert_eq!(own.status, 409, "{}", own.text());
    assert_eq!(app.get("/v1/audit").await.status, 200);
}

async fn admins_manage_accounts(app: TestApp) {
    let (member, _, _) = app.create_member(&studio("Account Holder")).await;
    let member_id = member["id"].as_str().unwrap();
    let made =
        app.post("/v1/users", &json!({"email": "Owner@Studio.lu", "role": "member", "member_id": member_id})).await;
    assert_eq!(made.status, 201, "{}", made.text());
    assert_eq!(made.json()["user"]["email"], "owner@studio.lu");
    let location = made.header("location").unwrap();
    assert_eq!(app.get(&location).await.json(), made.json()["user"]);

    let duplicate = app.post("/v1/users", &json!({"email": "owner@studio.lu", "role": "staff"})).await;
    assert_eq!(duplicate.status, 409);
    let missing_member = app.post("/v1/users", &json!({"email": "m@x.lu", "role": "member"})).await;
    assert_eq!(missing_member.error_pointers(), ["/member_id"]);
    let unknown_member = app
        .post(
            "/v1/users",
            &json!({"email": "m@x.lu", "role": "member", "member_id": "0190f5b2-0000-7000-8000-000000000000"}),
        )
        .await;
    assert_eq!(unknown_member.error_pointers(), ["/member_id"]);
    let staff_with_member =
        app.post("/v1/users", &json!({"email": "s@x.lu", "role": "staff", "member_id": member_id})).await;
    assert_eq!(staff_with_member.error_pointers(), ["/member_id"]);
    let bad = app.post("/v1/users", &json!({"email": "nope", "role": "boss", "password": "x"})).await;
    let mut pointers = bad.error_pointers();
    pointers.sort();
    assert_eq!(pointers, ["/email", "/password", "/role"]);

    let members = app.get("/v1/users?role=member").await.json();
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
    let all = app.get("/v1/users?limit=1").await;
    assert!(all.header("link").is_some());
    assert_eq!(app.get("/v1/users?role=boss").await.status, 422);

    // Promotion ends the account's tokens; an admin cannot lock themselves out.
    let user_token = app.sign_in("owner@studio.lu", made.json()["one_time_password"].as_str().unwrap()).await;
    let promoted = app.patch(&location, &json!({"role": "staff"}), "*").await;
    assert_eq!(promoted.status, 200, "{}", promoted.text());
    assert_eq!(promoted.json()["member_id"], Value::Null, "staff belong to no member");
    assert_eq!(app.as_(&user_token).post("/v1/auth/logout", &json!({})).await.status, 401);
    let me = format!("/v1/users/{}", app.admin.id);
    assert_eq!(app.patch(&me, &json!({"disabled": true}), "*").await.status, 409);
    assert_eq!(app.patch(&me, &json!({"role": "staff"}), "*").await.status, 409);
    assert_eq!(app.get("/v1/users/0190f5b2-0000-7000-8000-000000000000").await.status, 404);
}

async fn admins_manage_clients(app: TestApp) {
    let made =
        app.post("/v1/clients", &json!({"name": "Design Portal", "scopes": ["members:write", "members:read"]})).await;
    assert_eq!(made.status, 201, "{}", made.text());
    let body = made.json();
    let client_id = body["client"]["client_id"].as_str().unwrap().to_owned();
    let secret = body["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(body["client"]["scopes"], json!(["members:read", "members:write"]));
    let sign_in = async |secret: String| {
        app.token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .await
    };
    let first = sign_in(secret.clone()).await;
    assert_eq!(first.status, 200);
    let token = first.json()["access_token"].as_str().unwrap().to_owned();

    let rotated = app.post(&format!("/v1/clients/{client_id}/secret"), &json!({})).await;
    assert_eq!(rotated.status, 200);
    let new_secret = rotated.json()["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(sign_in(secret).await.status, 401, "the old secret is gone");
    assert_eq!(app.as_(&token).get("/v1/members").await.status, 401, "and so are its tokens");
    let second = sign_in(new_secret.clone()).await;
    assert_eq!(second.status, 200);
    let token = second.json()["access_token"].as_str().unwrap().to_owned();

    let patched = app.patch(&format!("/v1/clients/{client_id}"), &json!({"scopes": ["members:read"]}), "*").await;
    assert_eq!(patched.status, 200);
    assert_eq!(app.as_(&token).get("/v1/members").await.status, 401, "fewer scopes end its tokens");
    // A change omits what it leaves alone: null is not a value of these fields, and changes nothing.
    let nulls = app.patch(&format!("/v1/clients/{client_id}"), &json!({"name": null, "disabled": null}), "*").await;
    assert_eq!(nulls.status, 422, "{}", nulls.text());
    assert_eq!(nulls.error_pointers(), ["/name", "/disabled"]);
    let user = app.get("/v1/users?limit=1").await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let nulls = app.patch(&format!("/v1/users/{user}"), &json!({"role": null}), "*").await;
    assert_eq!(nulls.error_pointers(), ["/role"]);
    let disabled = app.patch(&format!("/v1/clients/{client_id}"), &json!({"disabled": true}), "*").await;
    assert_eq!(disabled.json()["disabled"], true);
    assert_eq!(sign_in(new_secret).await.status, 401);

    assert_eq!(app.post("/v1/clients", &json!({"name": "", "scopes": []})).await.error_pointers().len(), 2);
    let page = app.get("/v1/clients?limit=10").await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/clients/mmc_none").await.status, 404);
}

async fn members_link_portals_and_everything_is_audited(app: TestApp) {
    let (member, location, _) = app.create_member(&studio("Linked Studio")).await;
    let member_id = member["id"].as_str().unwrap().parse().unwrap();
    let owner = app.user(Role::Member, Some(member_id));
    let portal = app.portal(&[ClientScope::MembersRead], &[]);
    assert_eq!(app.as_(&portal.token).get(&location).await.status, 404, "not linked yet");

    let link = format!("{location}/portals/{}", portal.client_id);
    let put = app.as_(&owner.token).send(app.as_(&owner.token).request(Method::PUT, &link)).await;
    assert_eq!(put.status, 204);
    let again = app.as_(&owner.token).send(app.as_(&owner.token).request(Method::PUT, &link)).await;
    assert_eq!(again.status, 204, "linking is idempotent");
    assert_eq!(app.as_(&portal.token).get(&location).await.status, 200);
    let listed = app.as_(&owner.token).get(&format!("{location}/portals")).await.json();
    assert_eq!(listed["items"][0]["client_id"], portal.client_id.as_str());
    let unknown = app
        .as_(&owner.token)
        .send(app.as_(&owner.token).request(Method::PUT, &format!("{location}/portals/mmc_x")))
        .await;
    assert_eq!(unknown.status, 404);

    let delete = app.as_(&owner.token).send(app.as_(&owner.token).request(Method::DELETE, &link)).await;
    assert_eq!(delete.status, 204);
    assert_eq!(app.as_(&portal.token).get(&location).await.status, 404);
    let gone = app.as_(&owner.token).send(app.as_(&owner.token).request(Method::DELETE, &link)).await;
    assert_eq!(gone.status, 404);

    let _ = app
        .token_request(&[("grant_type", "password"), ("username", &owner.email), ("password", "wrong-password")])
        .await;
    let _ = app.sign_in(&owner.email, FIXTURE_PASSWORD).await;

    let entries = app.get("/v1/audit?limit=100").await.json();
    let actions: Vec<&str> =
        entries["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["portal.linked", "portal.unlinked", "auth.sign_in_failed", "auth.sign_in"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| **a == "portal.linked").count(), 1, "a repeated link is not a change");
    let linked = app.get("/v1/audit?action=portal.linked").await.json();
    let entry = &linked["items"][0];
    assert_eq!(entry["actor"], format!("user:{}", owner.id));
    assert_eq!(entry["target"], format!("member:{member_id}"));
    assert_eq!(entry["ip"], "127.0.0.1");
    let failed = app.get("/v1/audit?action=auth.sign_in_failed").await.json();
    assert_eq!(failed["items"][0]["success"], false);
    assert!(!failed.to_string().contains("wrong-password"), "no password is recorded");
    let page = app.get("/v1/audit?limit=1").await;
    let next = page.json()["next"].as_str().unwrap().to_owned();
    let second = app.get(&format!("/v1/audit?limit=1&cursor={next}")).await.json();
    assert_ne!(second["items"][0]["id"], page.json()["items"][0]["id"]);
    assert_eq!(app.get("/v1/audit?since=yesterday").await.error_pointers(), ["?since"]);
}

async fn portals_and_members_see_only_their_own(app: TestApp) {
    let (a, a_path, a_etag) = app.create_member(&studio("Alpha Atelier")).await;
    let (_, b_path, _) = app.create_member(&studio("Beta Bureau")).await;
    let a_id = a["id"].as_str().unwrap().parse().unwrap();
    let member = app.user(Role::Member, Some(a_id));
    let list = app.as_(&member.token).get("/v1/members").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], a["id"]);
    assert_eq!(app.as_(&member.token).get(&b_path).await.status, 404);

    // Staff own `status`.
    let refused = app.as_(&member.token).patch(&a_path, &json!({"status": "suspended"}), &a_etag).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.as_(&member.token).patch(&a_path, &json!({"city": "Differdange"}), &a_etag).await.status, 200);
    let staff = app.user(Role::Staff, None);
    assert_eq!(app.as_(&staff.token).patch(&a_path, &json!({"status": "suspended"}), "*").await.status, 200);

    // Idempotency keys are per caller: two portals may use the same key.
    let p1 = app.portal(&[ClientScope::MembersWrite, ClientScope::MembersRead], &[]);
    let p2 = app.portal(&[ClientScope::MembersWrite, ClientScope::MembersRead], &[]);
    let post = async |token: String, name: &'static str| {
        let body = studio(name);
        app.send(app.as_(&token).request(Method::POST, "/v1/members").header("idempotency-key", "same-key").json(&body))
            .await
    };
    let r1 = post(p1.token.clone(), "From Portal One").await;
    let r2 = post(p2.token.clone(), "From Portal Two").await;
    assert_eq!((r1.status, r2.status), (201, 201));
    assert_ne!(r1.json()["id"], r2.json()["id"]);
    let seen = app.as_(&p1.token).get("/v1/members").await.json();
    assert_eq!(seen["items"].as_array().unwrap().len(), 1);
    assert_eq!(seen["items"][0]["name"], "From Portal One");
}

async fn sign_in_is_rate_limited(app: TestApp) {
    let staff = app.user(Role::Staff, None);
    let attempt = async |app: &TestApp, password: &str| {
        app.token_request(&[("grant_type", "password"), ("username", staff.email.as_str()), ("password", password)])
            .await
    };
    // Per account: failures lock the account for a while, even for the right password.
    let per_account = app.reopen_with(|s| s.auth.failures_per_account = 3).await;
    for _ in 0..3 {
        assert_eq!(attempt(&per_account, "wrong-password").await.status, 400);
    }
    let locked = attempt(&per_account, FIXTURE_PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.json()["error"], "temporarily_unavailable");
    let wait: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    per_account.clock.advance(TimeDelta::minutes(15));
    assert_eq!(attempt(&per_account, FIXTURE_PASSWORD).await.status, 200);

    // Per client address: every attempt counts.
    let per_address = app.reopen_with(|s| s.auth.attempts_per_address = 4).await;
    for _ in 0..4 {
        assert_eq!(attempt(&per_address, FIXTURE_PASSWORD).await.status, 200);
    }
    let limited = attempt(&per_address, FIXTURE_PASSWORD).await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    per_address.clock.advance(TimeDelta::minutes(1));
    assert_eq!(attempt(&per_address, FIXTURE_PASSWORD).await.status, 200);
}

/// Accounts behind tokens are cached. A change that revokes tokens takes effect at once on the instance that made
/// it, and on another instance as soon as that one reads the change log (its poller is held off here, and the log
/// read by hand, so that the test shows both steps). Revocations: signing out, an account disabled, a portal's
/// secret rotated, a member erased with its accounts.
async fn revocation_reaches_every_instance(app: TestApp) {
    let other = app.reopen_with(|s| s.matching.poll_interval = std::time::Duration::from_secs(3600)).await;
    let read_log = async |instance: &TestApp| {
        let (index, pool) = (instance.index.clone(), instance.pool.clone());
        tokio::task::spawn_blocking(move || index.poll(&mut pool.get().unwrap()).unwrap()).await.unwrap()
    };
    // Both instances have seen (and cached) each account before it changes.
    let accepted = async |token: &str, path: &str| {
        for instance in [&app, &other] {
            assert_eq!(instance.as_(token).get(path).await.status, 200, "{path} on {}", instance.base);
        }
    };
    let (member, _, _) = app.create_member(&studio("Atelier Revoke")).await;
    let member_id: uuid::Uuid = member["id"].as_str().unwrap().parse().unwrap();
    let staff = app.user(Role::Staff, None);
    let disabled = app.user(Role::Staff, None);
    let owner = app.user(Role::Member, Some(member_id));
    let portal = app.portal(&[ClientScope::MembersRead], &[member_id]);
    accepted(&staff.token, "/v1/members").await;
    accepted(&disabled.token, "/v1/members").await;
    accepted(&owner.token, &format!("/v1/members/{member_id}")).await;
    accepted(&portal.token, "/v1/members").await;

    assert_eq!(app.as_(&staff.token).post("/v1/auth/logout", &json!({})).await.status, 204);
    let r = app.patch(&format!("/v1/users/{}", disabled.id), &json!({"disabled": true}), "*").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(app.post(&format!("/v1/clients/{}/secret", portal.client_id), &json!({})).await.status, 200);
    let r = app.delete(&format!("/v1/members/{member_id}"), "*").await;
    assert_eq!(r.status, 204, "{}", r.text());
    let revoked = [
        (&staff.token, "/v1/members".to_owned()),
        (&disabled.token, "/v1/members".to_owned()),
        (&owner.token, format!("/v1/members/{member_id}")),
        (&portal.token, "/v1/members".to_owned()),
    ];
    for (token, path) in &revoked {
        assert_eq!(app.as_(token).get(path).await.status, 401, "at once where it happened: {path}");
    }
    // Until it reads the change log, the other instance still goes by what it cached (the member is gone: 404).
    let mut cached = Vec::new();
    for (token, path) in &revoked {
        cached.push(other.as_(token).get(path).await.status);
    }
    assert_eq!(cached, [200, 200, 404, 200]);
    assert!(read_log(&other).await > 0);
    for (token, path) in &revoked {
        assert_eq!(other.as_(token).get(path).await.status, 401, "after one read of the change log: {path}");
    }
}
