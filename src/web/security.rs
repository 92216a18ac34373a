//! What every response and every form post goes through (issue 16, items 9–10 and 14):
//! HEAD answered like GET, security headers on HTML, the `Secure` cookie flag behind HTTPS,
//! the client's address and scheme as a trusted proxy reports them, and the Origin/Referer
//! check on state-changing page requests.

use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};

use super::error::WebError;
use crate::config::HttpOptions;
use crate::state::AppState;

/// Pages run no inline script and load nothing from elsewhere; no other site may frame them.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

fn options(req: &HttpRequest) -> Option<&HttpOptions> {
    req.app_data::<web::Data<AppState>>().map(|s| &s.http)
}

/// The client's address (see [`HttpOptions::client_ip`]).
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    Some(match options(req) {
        Some(opts) => opts.client_ip(peer, forwarded),
        None => peer,
    })
}

/// Whether the browser reached us over HTTPS. Perennial serves plain HTTP itself, so only a
/// trusted proxy can say so (`X-Forwarded-Proto: https`); from anyone else the header (and
/// `Forwarded`) is ignored.
pub fn is_https(req: &HttpRequest) -> bool {
    let (Some(peer), Some(opts)) = (req.peer_addr(), options(req)) else {
        return false;
    };
    opts.trusts(peer.ip())
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Outermost: a HEAD request is routed as a GET (actix-http then sends the headers and no
/// body), so every page and endpoint that answers GET answers HEAD too.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// Security headers on every response (the CSP only matters on HTML, but costs nothing
/// elsewhere), and `Secure` on every cookie when the browser talks HTTPS to us (directly,
/// through a trusted proxy, or `--secure-cookies`).
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let secure =
        options(req.request()).is_some_and(|o| o.secure_cookies) || is_https(req.request());
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        set(h, "content-security-policy", CONTENT_SECURITY_POLICY);
        set(h, "referrer-policy", "same-origin");
    }
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    if secure {
        mark_cookies_secure(h);
    }
    Ok(res)
}

fn set(h: &mut HeaderMap, name: &'static str, value: &'static str) {
    if !h.contains_key(name) {
        h.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

fn mark_cookies_secure(h: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).cloned().collect();
    if cookies.is_empty() {
        return;
    }
    h.remove(header::SET_COOKIE);
    for value in cookies {
        let secured = value
            .to_str()
            .ok()
            .and_then(|s| actix_web::cookie::Cookie::parse(s.to_string()).ok())
            .and_then(|mut c| {
                c.set_secure(true);
                HeaderValue::from_str(&c.to_string()).ok()
            })
            .unwrap_or(value);
        h.append(header::SET_COOKIE, secured);
    }
}

/// A state-changing page request must come from our own pages: when the browser says where
/// it comes from (`Origin`, else `Referer`), that must be this site. Checked besides the CSRF
/// token; a request naming neither (an old browser, a script) still needs the token.
pub async fn same_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if unsafe_method {
        if let Err(why) = check_origin(req.request()) {
            tracing::warn!(path = %req.path(), reason = %why, "cross-site form post refused");
            // Answered here as a response (not an error), so the outer middleware still adds
            // its headers.
            let page = actix_web::ResponseError::error_response(&WebError::CrossSite(why));
            return Ok(req.into_response(page).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn check_origin(req: &HttpRequest) -> Result<(), String> {
    let headers = req.headers();
    let claimed = match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        (Some(o), _) => o.to_str().unwrap_or("null").to_string(),
        (None, Some(r)) => r.to_str().unwrap_or("null").to_string(),
        (None, None) => return Ok(()),
    };
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase)
    else {
        return Err("the request names no host".into());
    };
    let theirs = authority_of(&claimed);
    match theirs {
        Some(a) if a == host || forwarded_host(req).is_some_and(|f| f == a) => Ok(()),
        Some(a) => Err(format!("it was sent from {a}, not from this site")),
        None => Err("it was sent from a page with no address".into()),
    }
}

/// `https://Example.com:8443/path` → `example.com:8443` (default ports dropped, as `Host`
/// drops them).
fn authority_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    if authority.is_empty() {
        return None;
    }
    Some(
        authority
            .strip_suffix(default_port)
            .map(str::to_string)
            .unwrap_or(authority),
    )
}

/// `X-Forwarded-Host` from a trusted proxy (a proxy that rewrites `Host`).
fn forwarded_host(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    if !options(req)?.trusts(peer) {
        return None;
    }
    let v = req.headers().get("x-forwarded-host")?.to_str().ok()?;
    Some(v.split(',').next()?.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::authority_of;

    #[test]
    fn authorities_drop_default_ports_and_paths() {
        assert_eq!(
            authority_of("https://Example.com:443/x").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            authority_of("http://127.0.0.1:8080/login?next=/").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            authority_of("http://user@evil.com/").as_deref(),
            Some("evil.com")
        );
        assert_eq!(authority_of("null"), None);
        assert_eq!(authority_of("file:///etc/passwd"), None);
    }
}
