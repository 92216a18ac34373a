//! Set-based and hot-path SQL that belongs to no single model: the publish-time enrollment
//! ("enroll existing") and the worker's rounds. The engine and the worker call these by name;
//! a second backend adds its twin beside each file.

pub mod backfill;
pub mod filter;
pub mod worker;
