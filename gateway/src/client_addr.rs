//! The client's address, for sign-in limits: the peer, or behind trusted proxies the right-most
//! `X-Forwarded-For` entry that is not one of them. Entries left of that are whatever the client
//! wrote, so they are never believed.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

fn trusted(proxies: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    proxies.iter().any(|n| n.contains(&ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as dual-stack sockets report IPv4 peers) as
/// IPv4, so a CIDR written for IPv4 matches them.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`) as some proxies write it.
fn parse_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

pub fn client_address(proxies: &[IpNet], headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let Some(peer) = peer.map(|p| canonical(p.ip())) else {
        return "unknown".into();
    };
    if !trusted(proxies, peer) {
        return peer.to_string();
    }
    // Every line of the header, in order, is one list; walk it from the right.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let mut last_trusted = peer;
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(ip) if trusted(proxies, ip) => last_trusted = canonical(ip),
            Some(ip) => return canonical(ip).to_string(),
            // Not an address where a trusted proxy should have written one: count the request
            // against the proxy that passed it on rather than believe anything further left.
            None => return last_trusted.to_string(),
        }
    }
    // Only proxies all the way: the left-most of them is as near the client as we know.
    last_trusted.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", l.parse().unwrap());
        }
        h
    }

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 443))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            client_address(&[], &h, peer("198.51.100.1")),
            "198.51.100.1"
        );
        let p = nets(&["10.0.0.0/8"]);
        assert_eq!(client_address(&p, &h, peer("198.51.100.1")), "198.51.100.1");
    }

    #[test]
    fn the_right_most_untrusted_entry_over_every_line() {
        let p = nets(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        // The client forged the first entry; the proxies appended the rest, the last on a line
        // of its own.
        let h = headers(&["1.1.1.1, 203.0.113.9", "10.0.0.5"]);
        assert_eq!(client_address(&p, &h, peer("10.0.0.7")), "203.0.113.9");
        let h = headers(&["2001:db8:1::1, 2001:db8:ffff::2"]);
        assert_eq!(
            client_address(&p, &h, peer("::ffff:10.0.0.7")),
            "2001:db8:1::1"
        );
    }

    #[test]
    fn garbage_or_only_proxies_stop_at_the_nearest_proxy() {
        let p = nets(&["10.0.0.0/8"]);
        let h = headers(&["not-an-ip, 10.0.0.3"]);
        assert_eq!(client_address(&p, &h, peer("10.0.0.7")), "10.0.0.3");
        let h = headers(&["10.0.0.1, 10.0.0.2"]);
        assert_eq!(client_address(&p, &h, peer("10.0.0.7")), "10.0.0.1");
        assert_eq!(
            client_address(&p, &HeaderMap::new(), peer("10.0.0.7")),
            "10.0.0.7"
        );
        let h = headers(&["203.0.113.9:4711"]);
        assert_eq!(client_address(&p, &h, peer("10.0.0.7")), "203.0.113.9");
    }
}
