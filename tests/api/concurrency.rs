//! Many writers at once: no 5xx, no "database is locked", and every acknowledged write readable afterwards.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, studio};
use crate::on_both_backends;

on_both_backends!(concurrent_writers_lose_nothing);

const WRITERS: usize = 32;

/// How long the writers run; 10 s unless `STRESS_SECONDS` says otherwise.
fn duration() -> Duration {
    Duration::from_secs(std::env::var("STRESS_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10))
}

async fn concurrent_writers_lose_nothing(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let deadline = Instant::now() + duration();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            // Each writer creates members and keeps patching the last one it made, remembering what it was told.
            let mut acknowledged: HashMap<String, String> = HashMap::new();
            let mut writes = 0_u32;
            let mut current: Option<(String, String)> = None;
            let mut n = 0_u32;
            while Instant::now() < deadline {
                n += 1;
                match &current {
                    Some((location, etag)) if !n.is_multiple_of(4) => {
                        let description = format!("writer {w} edit {n}");
                        let reply = app.patch(location, &json!({"description": description}), etag).await;
                        assert!(reply.status < 500, "writer {w}: {} {}", reply.status, reply.text());
                        assert_eq!(reply.status, 200, "writer {w}: {}", reply.text());
                        acknowledged.insert(location.clone(), description);
                        current = Some((location.clone(), reply.header("etag").unwrap()));
                    }
                    _ => {
                        let mut body = studio(&format!("Writer {w} member {n}"));
                        body["description"] = json!(format!("writer {w} created {n}"));
                        let reply = app.post("/v1/members", &body).await;
                        assert!(reply.status < 500, "writer {w}: {} {}", reply.status, reply.text());
                        assert_eq!(reply.status, 201, "writer {w}: {}", reply.text());
                        let location = reply.header("location").unwrap();
                        acknowledged.insert(location.clone(), format!("writer {w} created {n}"));
                        current = Some((location, reply.header("etag").unwrap()));
                    }
                }
                writes += 1;
            }
            (acknowledged, writes)
        }));
    }
    let mut expected = HashMap::new();
    let mut total = 0;
    for t in tasks {
        let (acknowledged, writes) = t.await.unwrap();
        expected.extend(acknowledged);
        total += writes;
    }
    assert!(total >= WRITERS as u32, "every writer wrote");
    let stored = app.all_members().await;
    assert_eq!(stored.len(), expected.len(), "every acknowledged create is stored, and nothing else");
    for member in stored {
        let location = format!("/v1/members/{}", member["id"].as_str().unwrap());
        assert_eq!(member["description"].as_str(), expected.get(&location).map(String::as_str), "{location}");
    }
    eprintln!("{:?}: {total} acknowledged writes by {WRITERS} writers", app.backend);
}
