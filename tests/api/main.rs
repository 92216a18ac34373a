//! HTTP tests: the app spawned on a random port with its own temp database per test.
//! Compiled as one binary (zero2prod layout).

mod helpers;

mod api_batch;
mod api_contacts;
mod api_properties;
mod auth;
mod builtin_trigger;
mod cli;
mod contacts;
mod demo;
mod engine;
mod events;
mod forms_safety;
mod import;
mod lists;
mod live_edit;
mod ops;
mod properties;
mod settings;
mod test_page;
mod workflow_pages;
mod workflows_api;
mod workflows_editor;
