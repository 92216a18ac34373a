//! Browser tests (issue 5): headless Chromium driven through ChromeDriver against the app on a
//! random port with a temp database. Skipped with a "SKIPPED:" line only when no browser is
//! installed and `CI` is not set. Screenshots: `target/screenshots/NN-step.png` (the phone-width walk: `target/screenshots/phone/`).
//!
//! Run alone: `cargo test --test browser -- --nocapture`.

mod expected;
mod harness;
mod keyboard;
mod walk;
mod walk_build;
mod walk_campaign;
mod walk_live;
