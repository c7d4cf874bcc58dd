//! Outbound HTTP: the one client the service calls other services with (the calls sync; the webhooks of a later
//! feature share it). rustls on the aws-lc-rs provider the service already has (lettre's, jsonwebtoken's), the
//! webpki roots bundled so that a slim container needs no certificate store, bounded waits and bounded answers.

use std::sync::Arc;
use std::time::Duration;

/// How the client waits and how much it reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To open a connection (TCP and TLS).
    pub connect: Duration,
    /// For a whole exchange, the answer's body included.
    pub total: Duration,
    /// The largest answer read; a longer one is an error, never silently cut.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { connect: Duration::from_secs(10), total: Duration::from_secs(60), max_body: 16 * 1024 * 1024 }
    }
}

/// A client shared by every outbound call: connections are pooled and reused.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    limits: Limits,
}

/// What an outbound exchange can come to other than an answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// No answer: the connection failed or timed out.
    #[error("no answer from {host}: {cause}")]
    Unreachable { host: String, cause: String },
    /// An answer, but not a success.
    #[error("{host} answered {status}")]
    Status { host: String, status: u16 },
    #[error("the answer from {host} is longer than {max} bytes")]
    TooLarge { host: String, max: usize },
    #[error("the client cannot be built: {0}")]
    Setup(String),
}

/// The `User-Agent` of every outbound request: the service and its version.
pub fn user_agent() -> String {
    format!("cluster-matchmaker/{}", env!("CARGO_PKG_VERSION"))
}

/// The cause of a transport error, with its sources (reqwest's own message rarely says what went wrong).
fn cause(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Make aws-lc-rs the process's default rustls provider (once; later calls do nothing), for any client built without
/// a configuration of its own. reqwest is built without a provider of its own (its default would bring `ring`).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl Outbound {
    pub fn new(limits: Limits) -> Result<Self, OutboundError> {
        install_crypto_provider();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| OutboundError::Setup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .user_agent(user_agent())
            .connect_timeout(limits.connect)
            .timeout(limits.total)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| OutboundError::Setup(cause(&e)))?;
        Ok(Self { client, limits })
    }

    /// The underlying client, to build a request with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Send a request and read its answer's body, at most [`Limits::max_body`] bytes; an answer other than a 2xx is
    /// an error.
    pub async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, OutboundError> {
        let request = request.build().map_err(|e| OutboundError::Setup(cause(&e)))?;
        let host = request.url().host_str().unwrap_or("the server").to_owned();
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| OutboundError::Unreachable { host: host.clone(), cause: cause(&e) })?;
        if !response.status().is_success() {
            return Err(OutboundError::Status { host, status: response.status().as_u16() });
        }
        let max = self.limits.max_body;
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(OutboundError::TooLarge { host, max });
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| OutboundError::Unreachable { host: host.clone(), cause: cause(&e) })?
        {
            if body.len() + chunk.len() > max {
                return Err(OutboundError::TooLarge { host, max });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
