//! Strict validation of a workflow definition (DESIGN §7), in two levels:
//!
//! * [`parse_definition`]: the JSON has the definition's shape (unknown fields, missing
//!   fields, bad enum values, wrong types), with the path of the first offending field.
//! * [`validate`]: every rule that makes a definition unsaveable (bad dates and times,
//!   unknown properties, lists and workflows, delays that do not fit the start type, …).
//!   The API answers 422 with these; the editor shows each next to its field.
//! * [`publish_problems`]: what blocks "Turn on" but may be saved as a draft (an email with no
//!   subject, a webhook with no URL, …) **plus** every [`validate`] error, so a stored
//!   definition whose property, list or workflow was deleted since shows all its issues.
//!
//! Field paths: `name`, `start.date`, `steps[1].subject`, `steps[2].yes[0].value`,
//! `triggers.filter_groups[0][1].property`, `settings.execution_window.start`, …
//!
//! Editor card anchors ([`Problem::card`]): `name`, `start` (the date card, incl. Repeat
//! annually), `trigger` (enrollment triggers and re-enrollment), `steps` (the flow as a
//! whole), `step-{i}` for top-level step `i` (0-based, as in `steps[i]`), `step-{i}-yes-{j}` /
//! `step-{i}-no-{j}` for steps inside a branch, and `settings`.
//!
//! Files: `parse` (the JSON into the typed definition, with field-named errors), `rules`
//! (the checker and its rules), and the unit tests in `tests.rs`.

mod parse;
mod rules;

use chrono::NaiveTime;
use serde::Serialize;

use super::definition::Definition;
pub use super::errors::FieldError;
use super::filter::Catalog;

pub const MAX_NAME_CHARS: usize = 200;
/// The furthest a date delay may reach from the date: 3650 days (weeks count 7).
pub const MAX_DATE_DELAY_DAYS: u64 = 3650;
pub const MAX_CATCH_UP_HOURS: u32 = 8760;
/// The longest plain delay (blank workflows), in minutes: 3650 days.
pub const MAX_DELAY_MINUTES: u64 = 3650 * 24 * 60;
pub const MAX_TASK_DUE_DAYS: u32 = 3650;
pub const MAX_CAMPAIGN_CHARS: usize = 200;

/// Something that blocks turning the workflow on, located in the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
    /// Anchor id of the editor card to open (see the module doc).
    pub card: String,
}

/// Strict `HH:MM` (or `HH:MM:SS`), 24-hour: `09:00`, `23:59`, `09:00:30`; not `9:00`, `24:00`.
/// The same parser the scheduler uses, so what validates is what runs.
pub fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    super::schedule::parse_time_of_day(s)
}

/// A minimal check of a webhook URL: `http(s)://host[:port][/path…]`, no whitespace.
pub fn check_http_url(url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A URL cannot contain spaces.".into());
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("Use an http:// or https:// URL.")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("The URL's host is not valid.")?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("The URL's host is not valid.".into());
        }
        (host, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("The URL needs a host, e.g. https://example.com/hook.".into());
    }
    if !host_port.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err("The URL's host is not valid.".into());
    }
    if let Some(p) = port {
        if p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535)
        {
            return Err("The URL's port is not valid.".into());
        }
    }
    Ok(())
}

pub use parse::parse_definition;

/// Every error that makes the definition unsaveable, in document order.
pub fn validate(def: &Definition, catalog: &Catalog) -> Vec<FieldError> {
    rules::check(def, catalog)
        .into_iter()
        .filter(|f| f.blocks_save)
        .map(|f| FieldError::new(f.field, f.message))
        .collect()
}

/// Everything that blocks "Turn on": the [`validate`] errors and the draft-only problems, in
/// document order.
pub fn publish_problems(def: &Definition, catalog: &Catalog) -> Vec<Problem> {
    rules::check(def, catalog)
        .into_iter()
        .map(|f| Problem {
            field: f.field,
            message: f.message,
            card: f.card,
        })
        .collect()
}

#[cfg(test)]
mod tests;
