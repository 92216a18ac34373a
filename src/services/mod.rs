//! Application services: the one path each kind of change goes through, whoever asks for it
//! (a form, the API, a CSV import or a workflow action).

pub mod contacts;
pub mod demo;
pub mod drafts;
pub mod enrollment;
pub mod import;
pub mod kept_counts;
pub mod review_figures;
pub mod workflows;
