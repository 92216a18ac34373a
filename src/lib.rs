//! Perennial: contact workflows centred on a date.
//!
//! Layout: `domain` (pure rules), `db` (schema, models, queries), `services` (the write paths
//! shared by every entry point), `web` (server-rendered pages), `api` (JSON API),
//! `worker` (the scheduler loop).

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod engine;
pub mod monitoring;
pub mod notifier;
pub mod ratelimit;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod worker;
