//! Set-based and hot-path SQL that belongs to no single model, grouped by the layer that runs
//! it.

pub mod worker;
