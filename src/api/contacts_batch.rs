//! `POST /contacts/batch` `{ "inputs": [contact…] }`: up to [`MAX_BATCH`] upserts by email in
//! one transaction → `{ "results": [contact…] }` in input order, or 422 naming the index and
//! field of every bad input (`inputs[517].properties.start_day`) with nothing saved. Each input
//! is what `POST /contacts` takes; the same email twice is one contact, the later input winning.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::auth::ApiAuth;
use super::contacts::{contact_json, map_error, parse_input};
use super::error::{ApiError, ApiResult};
use crate::services::contacts::{self, BatchInput, Catalog};
use crate::state::AppState;

pub const MAX_BATCH: usize = 1_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/batch", web::post().to(batch));
}

/// The `inputs` list of the body, each read as `POST /contacts` reads its body.
fn parse_inputs(body: Value) -> ApiResult<Vec<BatchInput>> {
    let Value::Object(mut obj) = body else {
        return Err(ApiError::field(
            "inputs",
            "expected { \"inputs\": [contact…] }",
        ));
    };
    if let Some(k) = obj.keys().find(|k| k.as_str() != "inputs") {
        return Err(ApiError::field(k.clone(), format!("unknown field \"{k}\"")));
    }
    let Some(Value::Array(list)) = obj.remove("inputs") else {
        return Err(ApiError::field(
            "inputs",
            "inputs must be a list of contact objects",
        ));
    };
    if list.is_empty() {
        return Err(ApiError::field("inputs", "the batch is empty"));
    }
    if list.len() > MAX_BATCH {
        return Err(ApiError::field(
            "inputs",
            format!("at most {MAX_BATCH} inputs per batch (got {})", list.len()),
        ));
    }
    Ok(list.into_iter().map(|v| parse_input(v, true)).collect())
}

async fn batch(
    _auth: ApiAuth,
    state: web::Data<AppState>,
    body: super::body::JsonBody,
) -> ApiResult<HttpResponse> {
    let inputs = parse_inputs(body.into_inner())?;
    let (written, catalog) = crate::db::run(&state.pool, move |conn| {
        let catalog = Catalog::load(conn)?;
        Ok((
            contacts::upsert_batch(conn, &catalog, inputs, "inputs"),
            catalog,
        ))
    })
    .await?;
    let written = written.map_err(map_error)?;
    let results: Vec<Value> = written
        .iter()
        .map(|w| contact_json(&catalog, &w.record))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "results": results })))
}
