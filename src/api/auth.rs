//! Bearer-token authentication as an extractor.

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
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("state missing")))?;
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
                None => Err(ApiError::Unauthorized(
                    "invalid or revoked API token".into(),
                )),
            }
        })
    }
}
