//! API errors: always JSON `{"error": message, "field": path-or-null}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::domain::errors::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
        all: Vec<FieldError>,
    },
    #[error("{0}")]
    Conflict(String),
    /// A body over the cap (413).
    #[error("{0}")]
    TooLarge(String),
    /// Too many failed attempts from this address (429 with `Retry-After`).
    #[error("{message}")]
    TooManyRequests { retry_after: u64, message: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let e = FieldError::new(field, message);
        ApiError::Invalid {
            field: Some(e.field.clone()),
            message: e.message.clone(),
            all: vec![e],
        }
    }

    pub fn fields(errors: Vec<FieldError>) -> ApiError {
        let first = errors
            .first()
            .cloned()
            .unwrap_or_else(|| FieldError::new("", "invalid input"));
        ApiError::Invalid {
            field: Some(first.field),
            message: first.message,
            all: errors,
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ApiError::Invalid {
                field,
                message,
                all,
            } => {
                json!({ "error": message, "field": field, "errors": all })
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %crate::telemetry::chain(e), "API request failed");
                json!({ "error": "internal error (logged)", "field": null })
            }
            other => json!({ "error": other.to_string(), "field": null }),
        };
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized(_)) {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::TooManyRequests { retry_after, .. } = self {
            res.insert_header(("Retry-After", retry_after.to_string()));
        }
        res.json(body)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
