//! The enrollment engine: who enters a workflow, when, and what is scheduled for them. It glues
//! the pure rules of `domain::schedule` and `domain::filter` to the database; every function
//! runs inside the caller's transaction so a change and its consequences commit together.

pub mod backfill;
pub mod context;
pub mod enroll;
pub mod events;
pub mod goals;
pub mod preview;
pub mod revise;
pub mod triggers;

pub use context::{ContactSnapshot, WorkflowCtx};
pub use enroll::{enroll, EnrollOutcome, Why};
