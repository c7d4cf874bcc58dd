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
    /// A client builder on rustls with aws-lc-rs and the bundled webpki roots, with `limits`' waits and our
    /// User-Agent: what every outbound client shares.
    fn builder(limits: &Limits) -> Result<reqwest::ClientBuilder, OutboundError> {
        install_crypto_provider();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| OutboundError::Setup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .user_agent(user_agent())
            .connect_timeout(limits.connect)
            .timeout(limits.total))
    }

    pub fn new(limits: Limits) -> Result<Self, OutboundError> {
        let client = Self::builder(&limits)?
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

/// How names are turned into addresses for a guarded client: the system's resolver, or (tests) a fixed table.
#[derive(Clone)]
pub struct Lookup(pub Arc<dyn reqwest::dns::Resolve>);

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lookup(..)")
    }
}

/// The system's resolver (`getaddrinfo`, on tokio's blocking pool).
struct SystemLookup;

impl reqwest::dns::Resolve for SystemLookup {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A fixed table of names and their addresses, in place of DNS (for tests, and for pinning a name by hand).
#[derive(Debug, Clone, Default)]
pub struct FixedLookup(pub std::collections::HashMap<String, Vec<std::net::IpAddr>>);

impl reqwest::dns::Resolve for FixedLookup {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let found = self.0.get(&name.as_str().to_ascii_lowercase()).cloned();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = found.ok_or_else(|| format!("{host} is not in the fixed table"))?;
            Ok(Box::new(ips.into_iter().map(|ip| std::net::SocketAddr::new(ip, 0)).collect::<Vec<_>>().into_iter())
                as reqwest::dns::Addrs)
        })
    }
}

impl Lookup {
    pub fn system() -> Self {
        Self(Arc::new(SystemLookup))
    }

    pub fn fixed(table: &[(&str, std::net::IpAddr)]) -> Self {
        let mut map = std::collections::HashMap::<String, Vec<std::net::IpAddr>>::new();
        for (name, ip) in table {
            map.entry(name.to_ascii_lowercase()).or_default().push(*ip);
        }
        Self(Arc::new(FixedLookup(map)))
    }
}

/// Which addresses a guarded client may connect to: public unicast addresses, and those in `allowed` (from the
/// configuration) whatever they are.
#[derive(Debug, Clone, Default)]
pub struct TargetRule {
    pub allowed: Vec<ipnet::IpNet>,
}

impl TargetRule {
    /// Whether `ip` is one of the explicitly allowed addresses.
    pub fn is_allowed(&self, ip: std::net::IpAddr) -> bool {
        let ip = canonical(ip);
        self.allowed.iter().any(|n| n.contains(&ip))
    }

    /// Why `ip` may not be connected to, if it may not: loopback, private, link-local, unique-local, unspecified,
    /// multicast, broadcast, documentation and other special-purpose ranges are refused unless allowed.
    pub fn refusal(&self, ip: std::net::IpAddr) -> Option<String> {
        let ip = canonical(ip);
        if self.is_allowed(ip) {
            return None;
        }
        special(ip).map(|kind| format!("{ip} is a {kind} address, which webhooks may not reach"))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) read as the IPv4 address it is.
fn canonical(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    }
}

/// The kind of special-purpose range `ip` is in, if any.
fn special(ip: std::net::IpAddr) -> Option<&'static str> {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || a >= 224 {
                Some("multicast or reserved")
            } else if v4.is_broadcast() {
                Some("broadcast")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_documentation() || (a == 198 && (b == 18 || b == 19)) || (a == 192 && b == 0) {
                Some("special-purpose")
            } else {
                None
            }
        }
        std::net::IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique-local")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("special-purpose")
            } else if first == 0x0064 && v6.segments()[1] == 0xff9b {
                Some("translated (NAT64)")
            } else if v6.segments()[..6] == [0, 0, 0, 0, 0, 0] {
                Some("IPv4-compatible")
            } else {
                None
            }
        }
    }
}

/// A resolver that passes on only the addresses [`TargetRule`] permits: a name resolving to a private address is
/// refused when the connection is made, whatever the name said when it was registered.
struct GuardedLookup {
    lookup: Lookup,
    rule: TargetRule,
}

impl reqwest::dns::Resolve for GuardedLookup {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let (resolving, rule) = (self.lookup.0.resolve(name), self.rule.clone());
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = resolving.await?.collect();
            let mut refusals = Vec::new();
            let permitted: Vec<std::net::SocketAddr> = found
                .into_iter()
                .filter(|a| match rule.refusal(a.ip()) {
                    Some(why) => {
                        refusals.push(why);
                        false
                    }
                    None => true,
                })
                .collect();
            if permitted.is_empty() {
                let why = refusals.first().cloned().unwrap_or_else(|| "no address".to_owned());
                return Err(format!("{host} refused: {why}").into());
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Outbound {
    /// A client for targets a caller chose (webhooks): names resolved through `lookup` and connected only to the
    /// addresses `rule` permits, no redirect followed, no proxy from the environment (a proxy would resolve the
    /// name itself), short waits and small answers.
    pub fn guarded(limits: Limits, rule: TargetRule, lookup: Lookup) -> Result<Self, OutboundError> {
        let client = Self::builder(&limits)?
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(0)
            .dns_resolver(Arc::new(GuardedLookup { lookup, rule }))
            .build()
            .map_err(|e| OutboundError::Setup(cause(&e)))?;
        Ok(Self { client, limits })
    }

    /// Send a request and give its status and at most [`Limits::max_body`] bytes of its answer (the rest is never
    /// read); any status, redirects included, is an answer.
    pub async fn exchange(&self, request: reqwest::Request) -> Result<(u16, Vec<u8>), OutboundError> {
        let host = request.url().host_str().unwrap_or("the server").to_owned();
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| OutboundError::Unreachable { host: host.clone(), cause: cause(&e) })?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while body.len() < self.limits.max_body {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = self.limits.max_body - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) | Err(_) => break,
            }
        }
        Ok((status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_refused_unless_allowed() {
        let rule = TargetRule { allowed: vec!["127.0.0.0/8".parse().unwrap()] };
        for refused in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
            "::1",
            "100.64.0.1",
        ] {
            assert!(rule.refusal(refused.parse().unwrap()).is_some(), "{refused}");
        }
        for permitted in ["127.0.0.1", "::ffff:127.0.0.1", "93.184.216.34", "2a00:1450:4001::1"] {
            assert_eq!(rule.refusal(permitted.parse().unwrap()), None, "{permitted}");
        }
        assert!(TargetRule::default().refusal("127.0.0.1".parse().unwrap()).is_some());
    }
}
