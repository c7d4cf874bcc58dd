//! Every token that must not work gets 401 with a `WWW-Authenticate` challenge.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use matchmaker::auth::keys::{KeyRing, generate_pem};
use matchmaker::auth::token;
use matchmaker::auth::{ClientScope, Role};
use serde_json::{Value, json};

use crate::helpers::{FIXTURE_PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(forged_stale_and_revoked_tokens_are_refused);

const PROBE: &str = "/v1/audit";

/// Replace the payload of a signed token, keeping its header and signature.
fn with_payload(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    edit(&mut payload);
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2])
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn forged_stale_and_revoked_tokens_are_refused(app: TestApp) {
    let staff = app.user(Role::Staff, None);
    assert_eq!(app.as_(&staff.token).get(PROBE).await.status, 200, "the genuine token works");
    let kid = app.keys.signer.kid.clone();
    let sub = format!("user:{}", staff.id);
    let mint = |edit: fn(&mut token::Claims)| app.mint(&sub, "staff", None, "", edit);

    let mut refused: Vec<(&str, String)> = vec![
        ("garbage", "not-a-token".to_owned()),
        ("wrong issuer", mint(|c| c.iss = "someone-else".into())),
        ("wrong audience", mint(|c| c.aud = "another-api".into())),
        ("expired", mint(|c| c.exp -= 900 + 31)),
        ("not yet valid", mint(|c| c.nbf += 31)),
        ("issued in the future", mint(|c| c.iat += 3600)),
        ("older token version", mint(|c| c.token_version = 0)),
        ("role not the account's", mint(|c| c.role = "admin".into())),
        ("unknown subject kind", mint(|c| c.sub = "robot:1".into())),
        ("deleted account", app.mint("user:0190f5b2-0000-7000-8000-000000000000", "staff", None, "", |_| {})),
    ];

    // alg: none, with the right kid and valid claims.
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let claims = staff.token.split('.').nth(1).unwrap();
    refused.push(("alg none", format!("{header}.{claims}.")));

    // HS256 "signed" with the public key, the classic key-confusion attack.
    let public = app.keys.jwks().keys[0].clone();
    let x = match &public.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => p.x.clone(),
        _ => unreachable!("Ed25519 keys"),
    };
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let forged_claims = payload(&staff.token);
    for secret in [x.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(&x).unwrap()] {
        let forged = jsonwebtoken::encode(&hs, &forged_claims, &EncodingKey::from_secret(&secret)).unwrap();
        refused.push(("HS256 with the public key", forged));
    }

    // A bad signature; a token signed by a key the service does not know; an unknown kid.
    let mut sig: Vec<char> = staff.token.rsplit('.').next().unwrap().chars().collect();
    sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
    let (head, _) = staff.token.rsplit_once('.').unwrap();
    refused.push(("bad signature", format!("{head}.{}", sig.iter().collect::<String>())));
    let stranger = KeyRing::from_pems(&generate_pem().unwrap(), "").unwrap();
    let foreign = token::issue(&stranger, &serde_json::from_value(forged_claims.clone()).unwrap()).unwrap();
    refused.push(("signed by an unknown key", foreign));
    let mut other_kid = Header::new(Algorithm::EdDSA);
    other_kid.kid = Some("no-such-key".into());
    refused.push(("unknown kid", jsonwebtoken::encode(&other_kid, &forged_claims, &app.keys.signer.encoding).unwrap()));
    let mut no_kid = Header::new(Algorithm::EdDSA);
    no_kid.kid = None;
    refused.push(("no kid", jsonwebtoken::encode(&no_kid, &forged_claims, &app.keys.signer.encoding).unwrap()));

    // Claims edited after signing: role, member.
    let (member, _, _) = app.create_member(&crate::helpers::studio("Edited Claims")).await;
    let member_id = member["id"].as_str().unwrap().parse().unwrap();
    let member_user = app.user(Role::Member, Some(member_id));
    refused.push(("role edited", with_payload(&member_user.token, |p| p["role"] = json!("admin"))));
    refused.push((
        "member edited",
        with_payload(&member_user.token, |p| p["member_id"] = json!("0190f5b2-0000-7000-8000-000000000000")),
    ));

    for (what, token) in &refused {
        let reply = app.as_(token).get(PROBE).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text());
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer realm=\"matchmaker\""), "{what}: {challenge}");
        assert!(challenge.contains("invalid_token"), "{what}: {challenge}");
        assert_eq!(reply.json()["type"], "/problems/unauthorized");
    }

    // Within the 30 s leeway a token still works.
    assert_eq!(app.as_(&mint(|c| c.exp -= 900 + 20)).get(PROBE).await.status, 200);
    assert_eq!(app.as_(&mint(|c| c.nbf += 20)).get(PROBE).await.status, 200);

    // No token at all: a challenge without an error code.
    let anonymous = app.anonymous().get(PROBE).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header("www-authenticate").as_deref(), Some("Bearer realm=\"matchmaker\""));
    let basic = app.send(app.anonymous().request(reqwest::Method::GET, PROBE).basic_auth("x", Some("y"))).await;
    assert_eq!(basic.status, 401);

    // Replayed after logout.
    let replayed = app.sign_in(&staff.email, FIXTURE_PASSWORD).await;
    assert_eq!(app.as_(&replayed).post("/v1/auth/logout", &json!({})).await.status, 204);
    assert_eq!(app.as_(&replayed).get(PROBE).await.status, 401, "replay after logout");
    assert_eq!(app.as_(&staff.token).get(PROBE).await.status, 401, "logout ends every token of the account");

    // After a password change.
    let other = app.user(Role::Staff, None);
    let change = json!({"current_password": FIXTURE_PASSWORD, "new_password": "amber-falcon-sings-softly"});
    assert_eq!(app.as_(&other.token).post("/v1/auth/password", &change).await.status, 204);
    assert_eq!(app.as_(&other.token).get(PROBE).await.status, 401, "token after a password change");

    // A disabled account and a disabled client.
    let disabled = app.user(Role::Staff, None);
    assert_eq!(app.patch(&format!("/v1/users/{}", disabled.id), &json!({"disabled": true}), "*").await.status, 200);
    assert_eq!(app.as_(&disabled.token).get(PROBE).await.status, 401, "disabled account");
    let portal = app.portal(&[ClientScope::MembersRead], &[]);
    assert_eq!(app.as_(&portal.token).get("/v1/members").await.status, 200);
    assert_eq!(
        app.patch(&format!("/v1/clients/{}", portal.client_id), &json!({"disabled": true}), "*").await.status,
        200
    );
    assert_eq!(app.as_(&portal.token).get("/v1/members").await.status, 401, "disabled client");
}
