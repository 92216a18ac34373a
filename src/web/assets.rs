//! `static/` compiled into the binary (`rust-embed`): a release binary serves its stylesheet
//! and scripts from any working directory or machine. Each file is answered with its type,
//! a strong `ETag` (its SHA-256) and `Cache-Control: no-cache` — browsers keep a copy and
//! revalidate it, getting `304 Not Modified` until the binary changes the file.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{path:.*}", web::get().to(serve));
}

async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    let Some(file) = Static::get(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such file");
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = "public, no-cache";
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned())
}
