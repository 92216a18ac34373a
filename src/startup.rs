//! Building and running the application: used by `main` and by the tests, which bind port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{time::Duration as CookieDuration, Key, SameSite};
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::config::{Config, HttpOptions};
use crate::db;
use crate::state::AppState;
use crate::{api, web as pages};

pub struct Application {
    port: u16,
    server: Server,
    pub state: Arc<AppState>,
    worker: Option<crate::worker::WorkerHandle>,
}

impl Application {
    /// Builds with the default HTTP options (no trusted proxy, no metrics token).
    pub fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with(config, HttpOptions::default())
    }

    pub fn build_with(config: Config, http: HttpOptions) -> anyhow::Result<Application> {
        let pool = db::connect(&config.database_url, crate::config::pool_size_from_env())?;
        let key = {
            let mut conn = pool.get().context("getting a connection")?;
            // Imports cut off by an earlier crash say so in the database (resume or roll back
            // from their page).
            crate::services::import::stop_dead_jobs(&mut conn, &[])?;
            crate::db::models::app_setting::cookie_key(&mut conn)?
        };
        let listener =
            TcpListener::bind(&config.bind).with_context(|| format!("binding {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let worker = config.run_worker.then(|| {
            let wc = crate::worker::WorkerConfig {
                smtp_url: config.smtp_url.clone(),
                ..Default::default()
            };
            crate::worker::spawn(pool.clone(), wc)
        });
        let state = Arc::new(
            AppState::new(pool)
                .with_worker_heartbeat(worker.as_ref().map(|w| w.heartbeat()))
                .with_http(http),
        );
        let server = match run(listener, state.clone(), Key::from(&key)) {
            Ok(s) => s,
            Err(e) => {
                if let Some(w) = worker {
                    w.stop();
                }
                return Err(e);
            }
        };
        Ok(Application {
            port,
            server,
            state,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops this app's worker from elsewhere (see [`crate::worker::WorkerStopper`]).
    pub fn worker_stopper(&self) -> Option<crate::worker::WorkerStopper> {
        self.worker.as_ref().map(|w| w.stopper())
    }

    /// Serves until SIGINT/SIGTERM; then the worker finishes its current job and stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(w) = self.worker {
            let _ = actix_web::web::block(move || w.stop()).await;
        }
        result
    }
}

fn run(listener: TcpListener, state: Arc<AppState>, key: Key) -> anyhow::Result<Server> {
    crate::monitoring::init();
    // Made off the serving threads now, so sign-in of an unknown email never pays for it.
    std::thread::spawn(|| crate::db::models::user::dummy_hash().len());
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_name("perennial_session".into())
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_secure(false)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(PersistentSession::default().session_ttl(CookieDuration::days(14)))
            .build();
        // Middleware runs outside in: the last `wrap` sees the request first.
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(pages::security::headers))
            .wrap(tracing_actix())
            .wrap(actix_web::middleware::from_fn(
                crate::monitoring::http_metrics,
            ))
            .wrap(actix_web::middleware::from_fn(pages::security::head_as_get))
            .configure(pages::ops::routes)
            .configure(pages::assets::routes)
            .configure(api::openapi::routes)
            .service(api::scope())
            .service(
                web::scope("")
                    .app_data(web::PayloadConfig::new(pages::MAX_FORM_BYTES))
                    .wrap(actix_web::middleware::from_fn(pages::security::same_origin))
                    .wrap(sessions)
                    .configure(pages::routes),
            )
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// Request logging at debug level (tracing).
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %Dms")
}
