//! Set-based SQL that no single model owns: the publish-time enrollment ("enroll existing"),
//! and the criteria counts of Review. The engine and the pages call these by name; a second
//! backend adds its twin beside each file.

pub mod backfill;
