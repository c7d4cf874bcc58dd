//! Many writers at once: no 5xx, no "database is locked", and every acknowledged write readable afterwards; and
//! an instance's matcher never falls back behind a change it has acknowledged.

use std::collections::HashMap;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use matchmaker::clock::Clock;
use matchmaker::db::changes::{self, Entity};
use matchmaker::db::{self, DbError, vocabulary};
use matchmaker::indexer::IndexSync;
use matchmaker::matching::model::Weights;
use matchmaker::matching::vocabulary::{DEFAULT_FUZZY_THRESHOLD, Lang};
use serde_json::json;

use crate::helpers::{TestApp, studio};
use crate::matching::GRAPHIC_DESIGN;
use crate::on_both_backends;

on_both_backends!(concurrent_writers_lose_nothing, reloads_never_install_an_older_vocabulary);

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

/// Requests apply their own vocabulary changes while the poller applies everyone's, so reloads overlap. A reload
/// that read the database before a synonym committed is held just before it installs; meanwhile the synonym is
/// stored and reloaded as the synonym route does. The held reload must not then replace the newer vocabulary: the
/// acknowledged synonym has to stay live. (Unserialised, the second reload finishes first and the held one
/// overwrites it; serialised, the second waits for the first and reads after it.)
async fn reloads_never_install_an_older_vocabulary(app: TestApp) {
    let pool = app.pool.clone();
    let now = app.clock.now();
    tokio::task::spawn_blocking(move || {
        let sync =
            Arc::new(IndexSync::start(&pool, DEFAULT_FUZZY_THRESHOLD, Weights::default(), Arc::default()).unwrap());
        let (read_tx, read_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let held = {
            let (sync, pool) = (sync.clone(), pool.clone());
            std::thread::spawn(move || {
                sync.reload_all_then(&mut pool.get().unwrap(), || {
                    read_tx.send(()).unwrap();
                    // Wait for the other reload, or give up when it is (rightly) waiting for this one.
                    let _ = done_rx.recv_timeout(Duration::from_millis(500));
                })
            })
        };
        read_rx.recv().unwrap();
        let label = "Prüfetikett";
        let mut conn = pool.get().unwrap();
        db::write(&mut conn, |c| {
            vocabulary::insert_label(c, GRAPHIC_DESIGN, Lang::De, label, "test", now)?;
            changes::record(c, Entity::Vocabulary, GRAPHIC_DESIGN, now)?;
            Ok::<_, DbError>(())
        })
        .unwrap();
        sync.reload_all(&mut conn).unwrap();
        let _ = done_tx.send(());
        held.join().unwrap().unwrap();
        let v = sync.matcher.vocabulary();
        let idx = v.find(GRAPHIC_DESIGN).unwrap();
        assert!(
            v.labels_of(idx).any(|(t, _)| t == label),
            "the acknowledged synonym must stay in the live vocabulary after the older reload finishes"
        );
        assert_eq!(v.normalise(label).concept, Some(idx), "and it names its concept");
    })
    .await
    .unwrap();
}
