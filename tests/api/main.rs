//! HTTP tests: the app spawned on a random port with its own temp database per test.
//! Compiled as one binary (zero2prod layout).

pub(crate) mod helpers;
pub(crate) mod openapi_check;

pub(crate) mod api_batch;
pub(crate) mod api_contacts;
pub(crate) mod api_properties;
pub(crate) mod auth;
pub(crate) mod authoring;
pub(crate) mod builtin_trigger;
pub(crate) mod campaign_editor;
pub(crate) mod campaign_pages;
pub(crate) mod campaign_settings;
pub(crate) mod campaign_tools;
pub(crate) mod cli;
pub(crate) mod contacts;
pub(crate) mod demo;
pub(crate) mod engine;
pub(crate) mod events;
pub(crate) mod forms_safety;
pub(crate) mod group_commit;
pub(crate) mod hardening;
pub(crate) mod history_sentences;
pub(crate) mod import;
pub(crate) mod import_recovery;
pub(crate) mod labels;
pub(crate) mod lists;
pub(crate) mod live_edit;
pub(crate) mod ops;
pub(crate) mod performance;
pub(crate) mod processes;
pub(crate) mod properties;
pub(crate) mod review_counts;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod test_page;
pub(crate) mod webhook_guard;
pub(crate) mod worker_batch;
pub(crate) mod workflow_pages;
pub(crate) mod workflows_api;
pub(crate) mod workflows_editor;
pub(crate) mod zones_forms;
