//! Bearer-token authentication as an extractor. Wrong tokens are counted per client address:
//! past `AppState::limits.token_by_ip` the address gets 429 with `Retry-After` until the
//! window passes (guessing tokens is not worth it; every failure is logged).

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

use super::error::ApiError;
use crate::db::models::api_token::ApiToken;
use crate::state::AppState;

/// Proof that the request carried an active API token.
pub struct ApiAuth {
    pub token_id: i64,
}

impl FromRequest for ApiAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header_value = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let ip = match (req.peer_addr(), &state) {
            (Some(peer), Some(s)) => s
                .http
                .client_ip(
                    peer.ip(),
                    req.headers()
                        .get_all("x-forwarded-for")
                        .filter_map(|v| v.to_str().ok()),
                )
                .to_string(),
            _ => "unknown".into(),
        };
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("state missing")))?;
            if let Some(wait) = state.limits.token_by_ip.blocked(&ip) {
                tracing::warn!(%ip, "API request refused: too many wrong tokens");
                let secs = crate::ratelimit::retry_after_secs(wait);
                return Err(ApiError::TooManyRequests {
                    retry_after: secs,
                    message: format!(
                        "too many requests with a wrong API token from this address; try again in {secs} s"
                    ),
                });
            }
            let token = header_value
                .as_deref()
                .and_then(|h| {
                    h.strip_prefix("Bearer ")
                        .or_else(|| h.strip_prefix("bearer "))
                })
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    ApiError::Unauthorized(
                        "missing bearer token (Authorization: Bearer <token>)".into(),
                    )
                })?;
            let found = crate::db::run(&state.pool, move |conn| {
                ApiToken::authenticate(conn, &token)
            })
            .await?;
            match found {
                Some(t) => Ok(ApiAuth { token_id: t.id }),
                None => {
                    state.limits.token_by_ip.fail(&ip);
                    tracing::warn!(%ip, "API request with a wrong, revoked or disowned token");
                    Err(ApiError::Unauthorized(
                        "invalid or revoked API token (or its user is disabled)".into(),
                    ))
                }
            }
        })
    }
}
