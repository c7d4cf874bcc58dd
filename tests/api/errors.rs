//! Bad input gets a precise problem+json answer and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, studio};
use crate::on_both_backends;

on_both_backends!(bad_bodies_are_refused_and_change_nothing, bad_patches_change_nothing, unknown_routes_and_methods);

fn assert_problem(reply: &Reply, status: u16, kind: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type").as_deref(), Some("application/problem+json"));
    let body = reply.json();
    assert_eq!(body["type"], format!("/problems/{kind}"));
    assert_eq!(body["status"], status);
    assert!(!body["detail"].as_str().unwrap().is_empty());
}

async fn bad_bodies_are_refused_and_change_nothing(app: TestApp) {
    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut request = app.request(Method::POST, "/v1/members").body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        app.send(request)
    };
    assert_problem(&raw(Some("application/json"), b"{\"name\": ".to_vec()).await, 400, "malformed-json");
    assert_problem(&raw(Some("text/plain"), studio("x").to_string().into_bytes()).await, 415, "unsupported-media-type");
    assert_problem(&raw(None, studio("x").to_string().into_bytes()).await, 415, "unsupported-media-type");
    assert_problem(
        &raw(Some("application/merge-patch+json"), studio("x").to_string().into_bytes()).await,
        415,
        "unsupported-media-type",
    );
    // A 2 MB body.
    let mut huge = studio("Huge");
    huge["description"] = json!("x".repeat(2 * 1024 * 1024));
    assert_problem(&raw(Some("application/json"), huge.to_string().into_bytes()).await, 413, "payload-too-large");

    // Each invalid field is named.
    let cases: Vec<(&str, Value, &str)> = vec![
        ("unknown field", json!({"colour": "red"}), "/colour"),
        ("read-only field", json!({"id": "0190f5b2-0000-7000-8000-000000000000"}), "/id"),
        ("country", json!({"country": "XY"}), "/country"),
        ("country shape", json!({"country": "LUX"}), "/country"),
        ("sector", json!({"sectors": ["design", "cooking"]}), "/sectors/1"),
        ("no sector", json!({"sectors": []}), "/sectors"),
        ("level", json!({"offers": [{"term": "3D modelling", "level": 6}]}), "/offers/0/level"),
        ("level type", json!({"offers": [{"term": "3D modelling", "level": "high"}]}), "/offers/0/level"),
        ("priority", json!({"needs": [{"term": "video", "priority": 0}]}), "/needs/0/priority"),
        ("empty term", json!({"interests": [{"term": "   "}]}), "/interests/0/term"),
        ("e-mail", json!({"contact_email": "not-an-address"}), "/contact_email"),
        ("url scheme", json!({"website": "ftp://files.example.lu"}), "/website"),
        ("url", json!({"website": "lumen dot lu"}), "/website"),
        ("NACE code", json!({"nace_codes": ["74.99"]}), "/nace_codes/0"),
        ("NACE shape", json!({"nace_codes": ["7410"]}), "/nace_codes/0"),
        ("language", json!({"languages": ["xx"]}), "/languages/0"),
        ("preferred language", json!({"preferred_language": "it"}), "/preferred_language"),
        ("size", json!({"size": "huge"}), "/size"),
        ("scope", json!({"scopes": ["galactic"]}), "/scopes/0"),
        ("digest", json!({"digest": "daily"}), "/digest"),
        ("status", json!({"status": "deleted"}), "/status"),
        ("discoverable", json!({"discoverable": "yes"}), "/discoverable"),
        ("name too long", json!({"name": "n".repeat(201)}), "/name"),
        ("null required", json!({"name": null}), "/name"),
    ];
    for (what, change, pointer) in cases {
        let mut body = studio("Valid Base");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = app.post("/v1/members", &body).await;
        assert_problem(&reply, 422, "validation");
        assert!(reply.error_pointers().contains(&pointer.to_owned()), "{what}: {pointer} not in {}", reply.text());
    }
    // Many bad fields at once: all are named.
    let reply = app.post("/v1/members", &json!({"name": "", "country": "XX", "sectors": "design"})).await;
    assert_problem(&reply, 422, "validation");
    let pointers = reply.error_pointers();
    for p in ["/name", "/country", "/sectors", "/contact_email"] {
        assert!(pointers.contains(&p.to_owned()), "{p} not in {pointers:?}");
    }
    assert_problem(&app.post("/v1/members", &json!([1, 2])).await, 422, "validation");

    // Bad list parameters.
    for query in
        ["limit=0", "limit=101", "limit=ten", "sector=cooking", "scope=x", "country=XX", "cursor=abc", "page=2"]
    {
        let reply = app.get(&format!("/v1/members?{query}")).await;
        assert_problem(&reply, 422, "validation");
        let name = query.split('=').next().unwrap();
        assert_eq!(reply.error_pointers(), vec![format!("?{name}")], "{query}");
    }
    assert!(app.all_members().await.is_empty(), "no rejected request created anything");
}

async fn bad_patches_change_nothing(app: TestApp) {
    let (before, location, etag) = app.create_member(&studio("Steady State")).await;
    let patch_raw = |ct: &str, body: Vec<u8>| {
        app.send(app.request(Method::PATCH, &location).header("if-match", &etag).header("content-type", ct).body(body))
    };
    assert_problem(&patch_raw("application/merge-patch+json", b"{".to_vec()).await, 400, "malformed-json");
    assert_problem(&patch_raw("text/plain", b"{}".to_vec()).await, 415, "unsupported-media-type");
    let huge = json!({"description": "y".repeat(300 * 1024)}).to_string().into_bytes();
    assert_problem(&patch_raw("application/merge-patch+json", huge).await, 413, "payload-too-large");
    for (patch, pointer) in [
        (json!({"country": "ZZ"}), "/country"),
        (json!({"name": null}), "/name"),
        (json!({"sectors": null}), "/sectors"),
        (json!({"created_at": "2020-01-01T00:00:00Z"}), "/created_at"),
        (json!({"offers": [{"term": "ok", "level": 3}, {"term": "OK", "level": 2}]}), "/offers/1"),
        (json!({"unknown": 1}), "/unknown"),
    ] {
        let reply = app.patch(&location, &patch, &etag).await;
        assert_problem(&reply, 422, "validation");
        assert!(reply.error_pointers().contains(&pointer.to_owned()), "{pointer}: {}", reply.text());
    }
    assert_problem(&app.patch(&location, &json!("not an object"), &etag).await, 422, "validation");
    let after = app.get(&location).await;
    assert_eq!(after.json(), before);
    assert_eq!(after.header("etag").unwrap(), etag, "the version did not move");
}

async fn unknown_routes_and_methods(app: TestApp) {
    assert_problem(&app.get("/v1/nothing-here").await, 404, "not-found");
    assert_problem(&app.get("/").await, 404, "not-found");
    let reply = app.send(app.request(Method::PUT, "/v1/members")).await;
    assert_problem(&reply, 405, "method-not-allowed");
    let allow = reply.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let reply = app.send(app.request(Method::POST, "/v1/members/0190f5b2-0000-7000-8000-000000000000")).await;
    assert_problem(&reply, 405, "method-not-allowed");
    let allow = reply.header("allow").unwrap();
    for m in ["GET", "PATCH", "DELETE"] {
        assert!(allow.contains(m), "{allow}");
    }
}
