//! The client address of a request: the peer, or, when the peer is a trusted proxy, the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left can be forged by the client).

use std::net::IpAddr;

use ipnet::IpNet;

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

pub fn client_address(peer: Option<IpAddr>, forwarded_for: &[&str], proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted(peer, proxies) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> =
        forwarded_for.iter().flat_map(|v| v.split(',')).filter_map(|s| s.trim().parse::<IpAddr>().ok()).collect();
    Some(hops.iter().rev().copied().find(|ip| !trusted(*ip, proxies)).or_else(|| hops.first().copied()).unwrap_or(peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_trusted;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let proxies = parse_trusted("10.0.0.0/8, 192.168.1.5").unwrap();
        assert_eq!(client_address(Some(ip("203.0.113.9")), &["1.2.3.4"], &proxies), Some(ip("203.0.113.9")));
        assert_eq!(
            client_address(Some(ip("10.1.2.3")), &["6.6.6.6, 198.51.100.7, 192.168.1.5"], &proxies),
            Some(ip("198.51.100.7")),
            "the right-most untrusted hop, not the forgeable left-most"
        );
        assert_eq!(client_address(Some(ip("10.1.2.3")), &[], &proxies), Some(ip("10.1.2.3")));
        assert!(parse_trusted("10.0.0.0/33").is_err());
    }
}
