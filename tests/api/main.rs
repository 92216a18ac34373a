//! HTTP tests: the app spawned on a random port with its own temp database per test.
//! Compiled as one binary (zero2prod layout).

mod helpers;

mod api_contacts;
mod api_properties;
mod auth;
mod cli;
mod contacts;
mod demo;
mod engine;
mod events;
mod import;
mod lists;
mod ops;
mod properties;
mod settings;
mod workflow_pages;
mod workflows_api;
mod workflows_editor;
