//! The API suite of `tests/api/`, run against PostgreSQL: every test gets a fresh database on
//! the server of `PERENNIAL_TEST_PG_URL` (default: the local one), dropped after it
//! (`helpers::spawn_app` reads this binary's name).
#[path = "api/main.rs"]
mod api;

// The suite's modules refer to each other from the crate root.
use api::{campaign_editor, helpers, openapi_check, workflow_pages, workflows_api};
