//! The webhook guard against server-side request forgery (issue 16, item 12). A webhook may
//! not reach this machine or its private networks — loopback, private ranges, link-local
//! (where cloud metadata services answer), unspecified, shared, multicast and reserved
//! addresses — unless Settings > Webhooks lists the host.
//!
//! The check sits in the HTTP client's resolver: it sees the addresses a host name (or a
//! numeric spelling such as `2130706433` or `127.1`) resolves to, and the client connects only
//! to the addresses it returns — after every redirect too. A refused call never opens a
//! connection, so the history tells nothing about which internal ports answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::db::models::app_setting;
use crate::db::DbConnection;

/// The account setting: allowed internal hosts, one per line (names, addresses, CIDR ranges).
pub const ALLOWED_HOSTS: &str = "webhook_allowed_hosts";

/// One allowed target.
#[derive(Debug, Clone, PartialEq)]
pub enum Allowed {
    /// A host name, as written in webhook URLs (lower case, no trailing dot).
    Host(String),
    /// An address or a range.
    Net(IpNet),
}

/// What may be called besides public addresses.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub allowed: Vec<Allowed>,
}

impl Policy {
    /// The setting's entries; malformed ones are left out (the page refuses to save them).
    pub fn load(conn: &mut DbConnection) -> anyhow::Result<Policy> {
        let text = app_setting::get(conn, ALLOWED_HOSTS)?.unwrap_or_default();
        Ok(Policy {
            allowed: entries(&text).filter_map(|e| parse_entry(e).ok()).collect(),
        })
    }

    fn allows(&self, host: &str, ip: IpAddr) -> bool {
        let host = normal_host(host);
        self.allowed.iter().any(|a| match a {
            Allowed::Host(h) => *h == host,
            Allowed::Net(n) => n.contains(&ip),
        })
    }
}

/// The entries of the setting: one per line or comma, blanks and `#` comments skipped.
pub fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

fn normal_host(h: &str) -> String {
    h.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// An entry of the setting, or why it is not one.
pub fn parse_entry(entry: &str) -> Result<Allowed, String> {
    if let Ok(net) = crate::config::parse_net(entry.trim_start_matches('[').trim_end_matches(']')) {
        return Ok(Allowed::Net(net));
    }
    let host = normal_host(entry);
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if valid {
        Ok(Allowed::Host(host))
    } else {
        Err(format!(
            "“{entry}” is not a host name, an IP address or a CIDR range (hooks.internal, 10.0.0.7, 10.0.0.0/24)"
        ))
    }
}

/// Why an address is off limits for webhooks, or `None` for a public address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [127, ..] => "a loopback address (this machine)",
        [10, ..] => "a private network address",
        [172, b, ..] if (16..32).contains(&b) => "a private network address",
        [192, 168, ..] => "a private network address",
        [169, 254, ..] => "a link-local address (where cloud metadata services answer)",
        [0, ..] => "an unspecified address (this machine)",
        [100, b, ..] if (64..128).contains(&b) => "a shared (carrier-grade NAT) address",
        [192, 0, 0, _] => "a reserved protocol address",
        [198, 18 | 19, ..] => "a benchmarking network address",
        [224..=239, ..] => "a multicast address",
        [240..=255, ..] => "a reserved or broadcast address",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return forbidden_v4(Ipv4Addr::new(a, b, c, d));
    }
    Some(match s[0] {
        _ if ip.is_loopback() => "a loopback address (this machine)",
        _ if ip.is_unspecified() => "an unspecified address (this machine)",
        0 if s[1..6] == [0, 0, 0, 0, 0] => "an IPv4-compatible address",
        x if x & 0xfe00 == 0xfc00 => "a private network address (unique local)",
        x if x & 0xffc0 == 0xfe80 => "a link-local address",
        x if x & 0xffc0 == 0xfec0 => "a site-local address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// The resolver the webhook client uses: the system's, then the policy. The first refused
/// address ends the call, and its reason is kept for the history.
#[derive(Debug)]
pub struct GuardResolver {
    policy: Policy,
    refused: Arc<Mutex<Option<String>>>,
}

impl GuardResolver {
    pub fn new(policy: Policy) -> (GuardResolver, Arc<Mutex<Option<String>>>) {
        let refused = Arc::new(Mutex::new(None));
        (
            GuardResolver {
                policy,
                refused: refused.clone(),
            },
            refused,
        )
    }
}

impl Resolver for GuardResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or("");
        for addr in addrs.iter() {
            let ip = addr.ip();
            if self.policy.allows(host, ip) {
                continue;
            }
            if let Some(why) = forbidden(ip) {
                let shown = normal_host(host);
                let message = if shown == ip.to_string() {
                    format!("{ip} is {why}")
                } else {
                    format!("{shown} resolves to {ip}, {why}")
                };
                let message = format!(
                    "webhook refused: {message}. Webhooks do not call internal addresses unless Settings > Webhooks lists the host \
                     (“{shown}”)"
                );
                if let Ok(mut slot) = self.refused.lock() {
                    *slot = Some(message.clone());
                }
                return Err(ureq::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    message,
                )));
            }
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        forbidden(s.parse().unwrap())
    }

    #[test]
    fn internal_ranges_are_refused_and_public_ones_pass() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(reason(ip).is_some(), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "172.32.0.1",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert_eq!(reason(ip), None, "{ip} is public");
        }
    }

    #[test]
    fn the_allowed_list_names_hosts_addresses_and_ranges() {
        let policy = Policy {
            allowed: entries("hooks.internal\n10.0.0.0/24, 127.0.0.1 # local tests\n\n")
                .map(|e| parse_entry(e).unwrap())
                .collect(),
        };
        assert!(policy.allows("Hooks.Internal.", "10.9.9.9".parse().unwrap()));
        assert!(policy.allows("x", "10.0.0.7".parse().unwrap()));
        assert!(policy.allows("2130706433", "127.0.0.1".parse().unwrap()));
        assert!(!policy.allows("x", "10.0.1.7".parse().unwrap()));
        assert!(!policy.allows("127.0.0.2", "127.0.0.2".parse().unwrap()));
        assert!(parse_entry("http://x/").is_err());
        assert!(parse_entry("bad host").is_err());
        assert_eq!(
            parse_entry("[::1]").unwrap(),
            Allowed::Net("::1/128".parse().unwrap())
        );
    }
}
