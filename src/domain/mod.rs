//! Pure domain logic: no database, no clock, no I/O. Everything here is unit-tested.

pub mod definition;
pub mod errors;
pub mod events;
pub mod filter;
pub mod labels;
pub mod pacing;
pub mod paths;
pub mod schedule;
pub mod split;
pub mod templates;
pub mod tokens;
pub mod validate;
pub mod values;
pub mod warnings;
pub mod watch;
pub mod zones;
