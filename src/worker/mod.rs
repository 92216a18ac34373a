//! The worker: claims due enrollments with a lease, runs their steps, writes history and
//! schedules what comes next, in one transaction per batch.

pub mod notify;

pub use notify::notify;
