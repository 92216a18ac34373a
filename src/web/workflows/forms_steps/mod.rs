//! Step panels: which step types there are, a step as form values and back, and the words on
//! each card.
//!
//! Form convention (one step per form, flat names): `when`, `amount`, `unit`, `time_of_day`,
//! `zone_contact` (date delay); `amount`, `unit` (delay); `days` (repeated), `time_of_day`
//! (delay until); `property`, `value`; `from`, `to`; `direction` (increase|decrease) and
//! `amount` (adjust); `subject`, `body`; `message`, `recipients` (comma- or line-separated);
//! `title`, `notes`, `due_in_days`; `list_id`; `url`, `secret`; `workflow_id`; and the filter
//! groups of `forms_filters` for a branch's conditions.
//!
//! One file per job: `types` is the catalogue of step types, `form` a stored step as its
//! panel's inputs, `parse` the inputs read back into a step (and validation errors mapped to
//! them), `summary` the words on each card.

mod form;
mod parse;
mod summary;
mod types;

pub use form::{defaults, to_form};
pub use parse::{from_form, map_errors, Parsed};
pub use summary::{anchor_words, condition_lines, field_type_hint, summarize, Summary};
pub use types::{step_type, Avail, StepType, STEP_TYPES};

#[cfg(test)]
mod tests;
