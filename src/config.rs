//! Run-time configuration from the environment (the CLI passes the same values).

/// Where the app listens and which database it uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PERENNIAL_BIND`, default `127.0.0.1:8080`; tests use port 0.
    pub bind: String,
    /// `DATABASE_URL`: an SQLite file path (default `perennial.db`) or a `postgres://` URL.
    pub database_url: String,
    /// Start the background worker inside the server process.
    pub run_worker: bool,
    /// `PERENNIAL_SMTP_URL`: deliver workflow emails over SMTP instead of keeping them in the Outbox.
    pub smtp_url: Option<String>,
}

impl Config {
    pub fn from_env() -> Config {
        Config {
            bind: std::env::var("PERENNIAL_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into()),
            database_url: database_url_from_env(),
            run_worker: true,
            smtp_url: std::env::var("PERENNIAL_SMTP_URL")
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }
}

/// `PERENNIAL_POOL_SIZE`: database connections per process (default 8). On PostgreSQL every
/// process holds up to this many, plus one for a worker's listener: keep the sum over all
/// processes under the server's `max_connections`.
pub fn pool_size_from_env() -> u32 {
    std::env::var("PERENNIAL_POOL_SIZE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| (1..=256).contains(n))
        .unwrap_or(8)
}

pub fn database_url_from_env() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "perennial.db".into())
}

/// How the HTTP side meets the network: cookies, proxies, the metrics endpoint. Built from
/// `perennial serve`'s flags (each with its environment variable); tests set it directly.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// `--secure-cookies` (`PERENNIAL_SECURE_COOKIES=1`): always mark the session cookie
    /// `Secure`. Without it the cookie is `Secure` whenever the request came over HTTPS as
    /// a trusted proxy reports it (`X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// `--trusted-proxy` (`PERENNIAL_TRUSTED_PROXIES`, comma-separated addresses or CIDR
    /// ranges): reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    /// From anyone else those headers are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `--metrics-token` (`PERENNIAL_METRICS_TOKEN`): `GET /metrics` then asks for
    /// `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
}

impl HttpOptions {
    pub fn from_env() -> HttpOptions {
        let truthy = |v: String| matches!(v.trim(), "1" | "true" | "yes" | "on");
        HttpOptions {
            secure_cookies: std::env::var("PERENNIAL_SECURE_COOKIES")
                .map(truthy)
                .unwrap_or(false),
            trusted_proxies: std::env::var("PERENNIAL_TRUSTED_PROXIES")
                .ok()
                .map(|v| {
                    v.split(',')
                        .filter_map(|s| parse_net(s).ok())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
            metrics_token: std::env::var("PERENNIAL_METRICS_TOKEN")
                .ok()
                .filter(|s| !s.trim().is_empty()),
        }
    }

    /// The client's address: `peer`, or — when the peer is a trusted proxy — the nearest
    /// address of `X-Forwarded-For` (`forwarded_for`, its header values in order) that is not
    /// itself a trusted proxy.
    pub fn client_ip<'a>(
        &self,
        peer: std::net::IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> std::net::IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let chain: Vec<std::net::IpAddr> = forwarded_for
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        chain
            .into_iter()
            .rev()
            .find(|ip| !self.trusts(*ip))
            .unwrap_or(peer)
    }

    /// Whether a peer is one of the trusted proxies.
    pub fn trusts(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(&peer))
    }
}

/// An address (`10.0.0.7`, `::1`) or a CIDR range (`10.0.0.0/8`).
pub fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<ipnet::IpNet>() {
        return Ok(net);
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| format!("“{s}” is neither an IP address nor a CIDR range (10.0.0.0/8)"))
}
