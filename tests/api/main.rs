//! HTTP tests: the app spawned on a random port with its own temp database per test.
//! Compiled as one binary (zero2prod layout).

mod helpers;

mod api_contacts;
mod auth;
mod contacts;
