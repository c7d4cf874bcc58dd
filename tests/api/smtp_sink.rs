//! A small SMTP server for tests, on loopback: it speaks enough of RFC 5321 for lettre, keeps every message it
//! accepts, and can misbehave on purpose (close the connection before accepting the k-th message; take its time).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A running sink.
#[derive(Clone)]
pub struct Sink {
    pub port: u16,
    accepted: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Messages whose data arrived (accepted or not), counting from 1.
    arrived: Arc<AtomicUsize>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviour {
    /// Close the connection, without answering, once the data of this message (1-based) has arrived.
    pub drop_before_accepting: Option<usize>,
    /// Wait this long before accepting each message.
    pub delay: Duration,
}

impl Sink {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = Self { port, accepted: Arc::default(), arrived: Arc::default() };
        let s = sink.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream, behaviour).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far, raw.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        self.accepted.lock().unwrap().clone()
    }

    /// Wait until at least `n` messages were accepted (or fail after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "the sink got {} of {n} messages in {within:?}", got.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn session(&self, stream: tokio::net::TcpStream, b: Behaviour) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP test sink\r\n").await?;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let verb = line.trim_end().split(' ').next().unwrap_or_default().to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" => write.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?,
                "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => write.write_all(b"250 OK\r\n").await?,
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await?;
                    let mut data = Vec::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await? == 0 {
                            return Ok(());
                        }
                        if line == ".\r\n" || line == ".\n" {
                            break;
                        }
                        let text = line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line);
                        data.extend_from_slice(text.as_bytes());
                    }
                    let k = self.arrived.fetch_add(1, Ordering::SeqCst) + 1;
                    if b.drop_before_accepting == Some(k) {
                        return Ok(());
                    }
                    tokio::time::sleep(b.delay).await;
                    self.accepted.lock().unwrap().push(data);
                    write.write_all(b"250 queued\r\n").await?;
                }
                _ => write.write_all(b"502 not implemented\r\n").await?,
            }
        }
    }
}

/// What the tests read from a received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    /// Every `To` address.
    pub to_all: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub list_unsubscribe: String,
    pub list_unsubscribe_post: String,
    pub content_language: String,
    pub list_id: String,
    pub auto_submitted: String,
    /// Empty when the message has none.
    pub reply_to: String,
    pub html: String,
    pub text: String,
}

pub fn parse(raw: &[u8]) -> Received {
    let m = mail_parser::MessageParser::default().parse(raw).expect("a parsable message");
    // A header the message lacks reads empty (digests carry them all; other messages not the list's).
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    Received {
        to: m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        to_all: m.to().map_or(vec![], |a| a.iter().filter_map(|a| a.address()).map(str::to_owned).collect()),
        subject: m.subject().unwrap_or_default().to_owned(),
        message_id: header("Message-ID"),
        list_unsubscribe: header("List-Unsubscribe"),
        list_unsubscribe_post: header("List-Unsubscribe-Post"),
        content_language: header("Content-Language"),
        list_id: header("List-Id"),
        auto_submitted: header("Auto-Submitted"),
        reply_to: m.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        html: m.body_html(0).expect("an HTML part").into_owned(),
        text: m.body_text(0).expect("a text part").into_owned(),
    }
}
