//! A small fake of the Funding & Tenders portal's search API on loopback: `POST …?pageSize=N&pageNumber=P` with a
//! multipart form answers that page of the records the test gave it, in the shape the API's public users report
//! (`{"totalResults": …, "results": [{"reference", "url", "metadata": {…}}]}`), and counts what it is asked. Pages
//! can be made to fail once, or always.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[derive(Debug, Default)]
pub struct State {
    pub records: Vec<Value>,
    /// Pages that fail (503) the next time they are asked for, once.
    pub fail_once: HashSet<u32>,
    /// Pages that always fail (500).
    pub fail_always: HashSet<u32>,
    /// Every page asked for, in order (failed ones included).
    pub asked: Vec<u32>,
    /// Requests whose form lacked the parts the real API needs.
    pub malformed: usize,
    /// Bodies answered by page number, so a test can see what was served.
    pub served: HashMap<u32, usize>,
    /// How long each answer takes (a slow portal).
    pub delay: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct FakePortal {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakePortal {
    pub async fn start(records: Vec<Value>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url =
            format!("http://{}/search-api/prod/rest/search?apiKey=SEDIA&text=***", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State { records, ..State::default() }));
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

    pub fn set_records(&self, records: Vec<Value>) {
        self.state.lock().unwrap().records = records;
    }

    /// How many page requests were made.
    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().asked.len()
    }

    pub fn asked(&self) -> Vec<u32> {
        self.state.lock().unwrap().asked.clone()
    }
}

fn query_param(target: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(&format!("http://x{target}")).ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn serve(mut socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let Some(request) = crate::helpers::read_request(&mut socket).await? else { return Ok(()) };
    let (head, body) = (&request.head, &request.body);
    let target = request.target();
    let page: u32 = query_param(&target, "pageNumber").and_then(|p| p.parse().ok()).unwrap_or(1);
    let size: usize = query_param(&target, "pageSize").and_then(|p| p.parse().ok()).unwrap_or(100);
    let delay = state.lock().unwrap().delay;
    tokio::time::sleep(delay).await;
    let (status, answer) = {
        let mut s = state.lock().unwrap();
        s.asked.push(page);
        let multipart = head.to_ascii_lowercase().contains("multipart/form-data");
        if !multipart || !body.contains("name=\"query\"") || !body.contains("31094502") || !body.contains("languages") {
            s.malformed += 1;
        }
        if s.fail_always.contains(&page) {
            (500, json!({"error": "internal"}))
        } else if s.fail_once.remove(&page) {
            (503, json!({"error": "unavailable"}))
        } else {
            let start = (page as usize - 1) * size;
            let results: Vec<Value> = s.records.iter().skip(start).take(size).cloned().collect();
            *s.served.entry(page).or_default() += results.len();
            (200, json!({"totalResults": s.records.len(), "pageNumber": page, "pageSize": size, "results": results}))
        }
    };
    let text = answer.to_string();
    let reason = match status {
        200 => "OK",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await
}

/// A record as the API answers one: every metadata value an array.
pub fn record(reference: &str, metadata: &Value) -> Value {
    json!({
        "reference": reference,
        "url": format!("https://ec.europa.eu/info/funding-tenders/opportunities/data/topicDetails/{reference}.json"),
        "metadata": metadata,
    })
}
