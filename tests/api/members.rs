//! The member resource: create, read, change, delete, list; durable across restarts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, studio};
use crate::on_both_backends;

on_both_backends!(
    created_member_reads_back_as_sent,
    member_survives_a_restart,
    merge_patch_changes_what_it_names,
    writes_need_a_current_etag,
    racing_patches_have_one_winner,
    retried_post_creates_one_member,
    delete_removes_the_member,
    list_filters_and_pages,
);

async fn created_member_reads_back_as_sent(app: TestApp) {
    let body = studio("  Atelier Lumen  ");
    let (created, location, etag) = app.create_member(&body).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/members/{id}"));
    assert_eq!(created["name"], "Atelier Lumen", "names are trimmed");
    assert_eq!(created["status"], "active");
    assert_eq!(created["created_at"], "2026-11-27T08:00:00.000000Z", "time comes from the app's clock");
    let typed = |list: &Value, strength: &str| -> Vec<(Value, Value)> {
        list.as_array().unwrap().iter().map(|t| (t["term"].clone(), t[strength].clone())).collect()
    };
    assert_eq!(typed(&created["offers"], "level"), typed(&body["offers"], "level"), "terms are kept exactly as typed");
    assert_eq!(created["interests"][0]["term"], "cultural heritage");

    let got = app.get(&location).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag").unwrap(), etag);
    assert_eq!(got.json(), created);

    let minimal = json!({"name": "Solo", "contact_email": "solo@example.fr", "country": "fr", "sectors": ["games"]});
    let (m, _, _) = app.create_member(&minimal).await;
    assert_eq!(m["country"], "FR");
    assert_eq!(m["website"], Value::Null);
    assert_eq!(m["scopes"], json!([]));
    assert_eq!(m["digest"], "weekly");
    assert_eq!(m["discoverable"], true);
    assert_eq!(m["preferred_language"], "en");
}

async fn member_survives_a_restart(app: TestApp) {
    let (created, location, _) = app.create_member(&studio("Durable Design")).await;
    let restarted = app.reopen().await;
    drop(app);
    let got = restarted.get(&location).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), created);
}

async fn merge_patch_changes_what_it_names(app: TestApp) {
    let (created, location, etag) = app.create_member(&studio("Patchwork")).await;
    app.clock.advance(chrono::TimeDelta::minutes(5));
    let patch = json!({"city": null, "sectors": ["fashion"], "offers": [{"term": "Schnittmuster", "level": 5}]});
    let reply = app.patch(&location, &patch, &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let updated = reply.json();
    let new_etag = reply.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(updated["city"], Value::Null);
    assert_eq!(updated["sectors"], json!(["fashion"]));
    assert_eq!(updated["offers"][0]["term"], "Schnittmuster");
    assert_eq!(updated["offers"][0]["level"], 5);
    assert_eq!(updated["needs"], created["needs"], "fields the patch does not name stay");
    assert_eq!(updated["created_at"], created["created_at"]);
    assert_eq!(updated["updated_at"], "2026-11-27T08:05:00.000000Z");
    assert_eq!(app.get(&location).await.json(), updated);

    // Plain application/json is accepted as a merge patch too.
    let reply = app
        .send(
            app.request(Method::PATCH, &location)
                .header("if-match", &new_etag)
                .header("content-type", "application/json")
                .body(json!({"discoverable": false}).to_string()),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["discoverable"], false);

    // A patch that changes nothing keeps the version.
    let etag = reply.header("etag").unwrap();
    let same = app.patch(&location, &json!({"discoverable": false}), &etag).await;
    assert_eq!(same.status, 200);
    assert_eq!(same.header("etag").unwrap(), etag);
}

async fn writes_need_a_current_etag(app: TestApp) {
    let (created, location, etag) = app.create_member(&studio("Careful Co")).await;
    let no_precondition = app
        .send(
            app.request(Method::PATCH, &location)
                .header("content-type", "application/merge-patch+json")
                .body(json!({"name": "Hijack"}).to_string()),
        )
        .await;
    assert_eq!(no_precondition.status, 428);
    assert_eq!(no_precondition.json()["type"], "/problems/precondition-required");

    let first = app.patch(&location, &json!({"name": "Careful Company"}), &etag).await;
    assert_eq!(first.status, 200);
    let stale = app.patch(&location, &json!({"name": "Stale Write"}), &etag).await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.json()["type"], "/problems/precondition-failed");
    let stale_delete = app.delete(&location, &etag).await;
    assert_eq!(stale_delete.status, 412);
    let no_precondition = app.send(app.request(Method::DELETE, &location)).await;
    assert_eq!(no_precondition.status, 428);

    let now = app.get(&location).await.json();
    assert_eq!(now["name"], "Careful Company");
    assert_eq!(now["id"], created["id"]);

    let weak = app.patch(&location, &json!({"name": "Weak"}), &format!("W/{}", first.header("etag").unwrap())).await;
    assert_eq!(weak.status, 412, "If-Match uses the strong comparison");
    let any = app.patch(&location, &json!({"name": "Any Version"}), "*").await;
    assert_eq!(any.status, 200);
    let missing = app.patch("/v1/members/0190f5b2-0000-7000-8000-000000000000", &json!({"name": "x"}), "*").await;
    assert_eq!(missing.status, 404);
}

async fn racing_patches_have_one_winner(app: TestApp) {
    let (_, location, mut etag) = app.create_member(&studio("Race Track")).await;
    for round in 0..10 {
        let a = json!({"description": format!("written by A in round {round}")});
        let b = json!({"description": format!("written by B in round {round}")});
        let (ra, rb) = tokio::join!(app.patch(&location, &a, &etag), app.patch(&location, &b, &etag));
        let mut statuses = [ra.status, rb.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: exactly one writer wins");
        let winner = if ra.status == 200 { &ra } else { &rb };
        let stored = app.get(&location).await;
        assert_eq!(stored.json()["description"], winner.json()["description"], "round {round}");
        etag = stored.header("etag").unwrap();
        assert_eq!(etag, winner.header("etag").unwrap());
    }
}

async fn retried_post_creates_one_member(app: TestApp) {
    let body = studio("Once Only");
    let post = |key: &'static str, body: Value| {
        app.send(app.request(Method::POST, "/v1/members").header("idempotency-key", key).json(&body))
    };
    let first = post("3f0c9a1e-create-once", body.clone()).await;
    assert_eq!(first.status, 201);
    let retry = post("3f0c9a1e-create-once", body.clone()).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.json(), first.json());
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), first.header("etag"));

    let mut other = body.clone();
    other["name"] = json!("Something Else");
    let reuse = post("3f0c9a1e-create-once", other).await;
    assert_eq!(reuse.status, 422);
    assert_eq!(reuse.json()["type"], "/problems/unprocessable");

    // Two identical requests racing with a new key still make one member.
    let (a, b) = tokio::join!(post("race-key-1", body.clone()), post("race-key-1", body.clone()));
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.json()["id"], b.json()["id"]);

    let names: Vec<Value> = app.all_members().await.iter().map(|m| m["name"].clone()).collect();
    assert_eq!(names, vec![json!("Once Only"), json!("Once Only")], "one member per key");

    let bad_key = app.send(app.request(Method::POST, "/v1/members").header("idempotency-key", "").json(&body)).await;
    assert_eq!(bad_key.status, 422);
}

async fn delete_removes_the_member(app: TestApp) {
    let (_, location, etag) = app.create_member(&studio("Short Lived")).await;
    let (kept, _, _) = app.create_member(&studio("Long Lived")).await;
    let gone = app.delete(&location, &etag).await;
    assert_eq!(gone.status, 204);
    assert!(gone.body.is_empty());
    assert_eq!(app.get(&location).await.status, 404);
    assert_eq!(app.delete(&location, &etag).await.status, 404);
    let all = app.all_members().await;
    assert_eq!(all, vec![kept]);
    assert_eq!(app.get("/v1/members/not-a-uuid").await.status, 404);
}

async fn list_filters_and_pages(app: TestApp) {
    let members = [
        json!({"name": "École du Film", "description": "Cinéma d'animation et écriture", "contact_email": "a@x.lu",
               "country": "LU", "sectors": ["cinematography"], "scopes": ["european"],
               "offers": [{"term": "Modélisation 3D", "level": 3}]}),
        json!({"name": "Pixel Forge", "description": "Indie games, 100% handmade", "contact_email": "b@x.de",
               "country": "DE", "sectors": ["games", "new_media"], "scopes": ["international"],
               "offers": [{"term": "Game design", "level": 5}, {"term": "3D-Modellierung", "level": 4}]}),
        json!({"name": "Maison Couture", "description": "Mode et textile durable", "contact_email": "c@x.fr",
               "country": "FR", "sectors": ["fashion"], "scopes": ["national", "european"],
               "offers": [{"term": "pattern making", "level": 5}]}),
        json!({"name": "Bauhaus Büro", "description": "Architektur und Straßenraum", "contact_email": "d@x.lu",
               "country": "LU", "sectors": ["architecture"], "offers": [{"term": "BIM", "level": 4}]}),
        json!({"name": "Studio Ecole", "description": "Graphic design for schools", "contact_email": "e@x.be",
               "country": "BE", "sectors": ["design"], "scopes": ["european"]}),
    ];
    for m in &members {
        app.create_member(m).await;
    }
    let names = |reply: crate::helpers::Reply| -> Vec<String> {
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(app.get("/v1/members?sector=games").await), ["Pixel Forge"]);
    assert_eq!(names(app.get("/v1/members?country=lu").await), ["École du Film", "Bauhaus Büro"]);
    assert_eq!(names(app.get("/v1/members?scope=european").await), ["École du Film", "Maison Couture", "Studio Ecole"]);
    assert_eq!(names(app.get("/v1/members?q=ecole").await), ["École du Film", "Studio Ecole"], "accents fold");
    assert_eq!(names(app.get("/v1/members?q=ANIMATION%20cinema").await), ["École du Film"], "all words must match");
    assert_eq!(names(app.get("/v1/members?q=strasse").await), ["Bauhaus Büro"], "ß folds to ss");
    assert_eq!(names(app.get("/v1/members?q=100%25").await), ["Pixel Forge"], "% is literal");
    assert_eq!(names(app.get("/v1/members?q=_%25").await).len(), 5, "a query of punctuation only filters nothing");
    assert_eq!(names(app.get("/v1/members?skill=modelisation").await), ["École du Film"]);
    assert_eq!(names(app.get("/v1/members?skill=3D").await), ["École du Film", "Pixel Forge"]);
    assert_eq!(names(app.get("/v1/members?skill=modell&country=DE").await), ["Pixel Forge"]);
    assert_eq!(names(app.get("/v1/members?sector=design&scope=national").await), Vec::<String>::new());

    // Pages of two, by cursor and by Link header, cover everything once, in creation order.
    let mut seen = Vec::new();
    let mut path = "/v1/members?limit=2".to_owned();
    loop {
        let page = app.get(&path).await;
        let body = page.json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()));
        match body["next"].as_str() {
            Some(cursor) => {
                let link = page.header("link").unwrap();
                assert!(link.contains(cursor) && link.contains("limit=2") && link.ends_with("rel=\"next\""), "{link}");
                path = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
            }
            None => {
                assert!(page.header("link").is_none());
                break;
            }
        }
    }
    let expected: Vec<String> = members.iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, expected);
}
