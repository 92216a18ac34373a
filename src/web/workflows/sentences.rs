//! History events as sentences a person reads at a glance ("Send email “Renewal in 30 days”
//! scheduled for Tue 22 Dec 2026 09:00 (Europe/Oslo)"), built from the event, the step it
//! names (in the revision it was written under) and the detail the engine recorded. The
//! recorded detail stays as it is (the JSON API returns it unchanged); pages show it behind a
//! disclosure. Also: why a step was skipped, as a reason people can count (Performance).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::describe::{self, Names};
use crate::db::models::history;
use crate::domain::definition::{Definition, Step};
use crate::domain::values::parse_iso_date;
use crate::web::filters::{day, when, when_in};

/// Why a step was skipped, for counting and for the sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// Its time had passed when the contact enrolled.
    DatePassed,
    /// The date changed and its re-planned time had passed.
    Replanned,
    /// The workflow was off when it fell due.
    WorkflowOff,
    /// Overdue past the catch-up limit (the worker was down).
    CatchUp,
    /// Anything else (an event trigger that did not enroll, a loop prevented, …).
    Other,
}

impl SkipReason {
    pub const ALL: [SkipReason; 5] = [
        SkipReason::DatePassed,
        SkipReason::Replanned,
        SkipReason::WorkflowOff,
        SkipReason::CatchUp,
        SkipReason::Other,
    ];

    /// Read the engine's recorded words (see `engine::enroll`, `worker::execute`).
    pub fn of(detail: &str) -> SkipReason {
        let d = detail.trim_start_matches("skipped — ");
        if d.starts_with("its date had passed") {
            SkipReason::DatePassed
        } else if d.starts_with("its re-planned date") {
            SkipReason::Replanned
        } else if d.starts_with("the workflow was off") {
            SkipReason::WorkflowOff
        } else if d.starts_with("overdue by") {
            SkipReason::CatchUp
        } else {
            SkipReason::Other
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SkipReason::DatePassed => "date had passed at enrollment",
            SkipReason::Replanned => "re-planned date had passed",
            SkipReason::WorkflowOff => "workflow was off",
            SkipReason::CatchUp => "overdue past the catch-up limit",
            SkipReason::Other => "other reasons",
        }
    }
}

/// Every RFC 3339 instant written in `text` (`2027-01-09T09:00:00+01:00`, `…000Z`), in order.
pub fn instants(text: &str) -> Vec<DateTime<Utc>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 16 <= b.len() {
        let looks = b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 7] == b'-'
            && b[i + 10] == b'T'
            && b[i + 13] == b':';
        if !looks {
            i += 1;
            continue;
        }
        // The instant ends at the first character that cannot belong to one.
        let end = text[i..]
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | 'T' | 'Z' | '+')))
            .map(|n| i + n)
            .unwrap_or(text.len());
        match crate::clock::parse_instant(&text[i..end]) {
            Some(t) => {
                out.push(t);
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// A `YYYY-MM-DD` in words ("Tue 22 Dec 2026"), or the text as it is.
fn date_words(s: &str) -> String {
    parse_iso_date(s.trim())
        .map(day)
        .unwrap_or_else(|| s.trim().to_string())
}

/// What a history event says, in words (without the contact: pages put it in front).
pub struct Ctx<'a> {
    /// The definition of the revision the event was written under, when it still exists.
    pub def: Option<&'a Definition>,
    pub names: &'a Names,
    pub tz: Tz,
}

impl Ctx<'_> {
    fn step(&self, path: Option<&str>) -> Option<&Step> {
        describe::step_at(&self.def?.steps, path?)
    }

    /// "Send email “Renewal in 30 days”", or the step's number when its revision is gone.
    fn step_words(&self, path: Option<&str>) -> String {
        match (self.def, self.step(path)) {
            (Some(def), Some(step)) => describe::step_words(step, def, self.names, self.tz.name()),
            _ => match path {
                Some(p) => format!("Step {}", describe::step_path_label(p)),
                None => "The workflow".to_string(),
            },
        }
    }

    /// The step after a (top-level) delay: what the delay leads to.
    fn next_action(&self, path: Option<&str>) -> Option<String> {
        let def = self.def?;
        let path = path?;
        if path.contains('/') {
            return None;
        }
        let i: usize = path.parse().ok()?;
        let next = def.steps.get(i + 1)?;
        (!next.is_delay()).then(|| describe::step_words(next, def, self.names, self.tz.name()))
    }

    /// "Renewal date" or "the date".
    fn date_name(&self) -> String {
        match self.def {
            Some(d) => describe::date_subject(d, self.names),
            None => "the date".to_string(),
        }
    }

    /// A delay in a few words: "30 days before Renewal date", "on Renewal date", "wait 2 hours".
    fn delay_words(&self, step: &Step) -> String {
        use crate::domain::definition::{DateUnit, When};
        match step {
            Step::DateDelay {
                when, amount, unit, ..
            } => {
                let n = amount.unwrap_or(0);
                let unit = match (unit.unwrap_or(DateUnit::Days), n) {
                    (DateUnit::Days, 1) => "day",
                    (DateUnit::Days, _) => "days",
                    (DateUnit::Weeks, 1) => "week",
                    (DateUnit::Weeks, _) => "weeks",
                };
                let subject = self.date_name();
                match when {
                    When::Before if n > 0 => format!("{n} {unit} before {subject}"),
                    When::After if n > 0 => format!("{n} {unit} after {subject}"),
                    _ => format!("on {subject}"),
                }
            }
            other => match self.def {
                Some(def) => lower_first(&describe::step_words(
                    other,
                    def,
                    self.names,
                    self.tz.name(),
                )),
                None => String::new(),
            },
        }
    }

    /// The sentence for one event.
    pub fn sentence(&self, event: &str, path: Option<&str>, detail: &str) -> String {
        let times = instants(detail);
        let at = |i: usize| times.get(i).map(|t| when_in(*t, self.tz));
        match event {
            history::ENROLLED => self.enrolled(detail),
            history::SCHEDULED => {
                let due = at(0).unwrap_or_else(|| "a time to come".into());
                let moved = if detail.contains("(moved from") {
                    times
                        .get(1)
                        .map(|t| {
                            format!(
                                " — moved from {} by the execution window",
                                when(*t, self.tz)
                            )
                        })
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                if self.step(path).is_some_and(Step::is_delay) {
                    let then = self
                        .next_action(path)
                        .map(|n| format!(" — then {n}"))
                        .unwrap_or_default();
                    let delay = self
                        .step(path)
                        .map(|s| self.delay_words(s))
                        .unwrap_or_default();
                    format!("Waits until {due} — {delay}{then}")
                } else {
                    format!("{} scheduled for {due}{moved}", self.step_words(path))
                }
            }
            history::RESCHEDULED if detail.starts_with("email deferred by pacing") => {
                let why = detail
                    .strip_prefix("email deferred by pacing (")
                    .and_then(|r| r.rsplit_once("); now due "))
                    .map(|(why, _)| why)
                    .unwrap_or("the email limit or quiet hours");
                format!(
                    "{} deferred by pacing until {}: {why}",
                    self.step_words(path),
                    times
                        .last()
                        .map(|t| when_in(*t, self.tz))
                        .unwrap_or_else(|| "later".into())
                )
            }
            history::RESCHEDULED => {
                let cause = if let Some(rest) = detail.strip_prefix("date changed to ") {
                    let new = rest.split(':').next().unwrap_or("");
                    format!("{} changed to {}", self.date_name(), date_words(new))
                } else if detail.starts_with("workflow edited") {
                    "the workflow was edited".to_string()
                } else {
                    "the schedule changed".to_string()
                };
                if detail.contains("no remaining step") {
                    format!("Rescheduled: {cause}, and no remaining step is in the future")
                } else {
                    let was = detail
                        .rsplit_once("(was ")
                        .and_then(|(_, w)| crate::clock::parse_instant(w.trim_end_matches(')')))
                        .map(|t| format!(" (was {})", when(t, self.tz)))
                        .unwrap_or_default();
                    format!(
                        "{} rescheduled to {}{was}: {cause}",
                        self.step_words(path),
                        at(0).unwrap_or_else(|| "a new time".into())
                    )
                }
            }
            history::ACTION_EXECUTED => {
                let words = self.step_words(path);
                if let Some(arm) = detail.strip_prefix("if/then branch: took the ") {
                    let arm = if arm.starts_with("yes") { "Yes" } else { "No" };
                    format!("{words}: took the {arm} path")
                } else if let Some(rest) = detail.strip_prefix("wait until: ") {
                    self.wait_sentence(&words, rest, at(0))
                } else if let Some(rest) = detail.strip_prefix("random split: ") {
                    match rest.strip_prefix("took path ") {
                        Some(name) => format!("{words}: took path {name}"),
                        None => format!(
                            "{words}: in the holdout — gets nothing more from this workflow"
                        ),
                    }
                } else if detail.starts_with("skipped to prevent a loop") {
                    format!("{words}: not run, to prevent a loop")
                } else {
                    format!("{words} — done")
                }
            }
            history::ACTION_FAILED => {
                let error = detail.split("; attempt").next().unwrap_or(detail);
                let retry = if detail.contains("next retry at") {
                    times
                        .last()
                        .map(|t| format!("; it is tried again at {}", when(*t, self.tz)))
                        .unwrap_or_default()
                } else if detail.contains("gave up") {
                    "; no more retries".to_string()
                } else {
                    String::new()
                };
                format!("{} — failed: {error}{retry}", self.step_words(path))
            }
            history::SKIPPED => {
                let reason = match SkipReason::of(detail) {
                    SkipReason::DatePassed => {
                        let was = at(0)
                            .map(|t| format!(" (it was due {t})"))
                            .unwrap_or_default();
                        format!("its date had passed when the contact enrolled{was}")
                    }
                    SkipReason::Replanned => "its re-planned date had already passed".to_string(),
                    SkipReason::WorkflowOff => "the workflow was off when it fell due".to_string(),
                    SkipReason::CatchUp => {
                        let overdue = detail
                            .split("overdue by ")
                            .nth(1)
                            .and_then(|r| r.split(" (").next())
                            .unwrap_or("too long");
                        format!(
                            "overdue by {overdue} when the worker came back, past the catch-up limit"
                        )
                    }
                    SkipReason::Other => self.with_names(detail.trim_start_matches("skipped — ")),
                };
                match path {
                    Some(_) => format!("{} — skipped: {reason}", self.step_words(path)),
                    None => format!("Not enrolled: {reason}"),
                }
            }
            history::UNENROLLED => format!("Unenrolled: {}", self.with_names(detail)),
            history::COMPLETED if detail.starts_with("goal met") => {
                "Goal met: the contact converted and left the workflow".to_string()
            }
            history::COMPLETED => {
                if let Some(y) = detail
                    .strip_prefix("cycle ")
                    .and_then(|r| r.strip_suffix(" complete"))
                {
                    if y == "0" {
                        "Completed: every step has run".to_string()
                    } else {
                        format!("Completed the {y} cycle: every step has run")
                    }
                } else {
                    format!("Completed: {}", self.with_names(detail))
                }
            }
            _ => detail.to_string(),
        }
    }

    /// A wait-until step's event: waiting, met or timed out (`rest` after "wait until: ").
    fn wait_sentence(&self, words: &str, rest: &str, until: Option<String>) -> String {
        if let Some(what) = rest.strip_prefix("waiting for ") {
            let what = what.split(", at most until").next().unwrap_or(what);
            let until = until
                .map(|u| format!(", at most until {u}"))
                .unwrap_or_default();
            format!("{words}: waiting for {what}{until}")
        } else if rest.contains("timed out") {
            format!("{words}: timed out — took the Timed out path")
        } else {
            let why = rest.split("; took").next().unwrap_or(rest);
            format!("{words}: met ({why}) — took the Met path")
        }
    }

    fn enrolled(&self, detail: &str) -> String {
        let (why, anchor) = match detail.split_once("; anchor ") {
            Some((w, a)) => (w, Some(a)),
            None => (detail, None),
        };
        let why = if let Some(y) = why.strip_prefix("annual cycle ") {
            format!("the next yearly cycle ({y})")
        } else if let Some(id) = why
            .strip_prefix("enrolled by an action of workflow ")
            .and_then(|w| w.trim().parse::<i64>().ok())
        {
            format!("by an action of workflow {}", self.names.workflow_label(id))
        } else if let Some(rest) = why
            .strip_prefix("enrolled by event ")
            .or_else(|| why.strip_prefix("re-enrolled by event "))
        {
            let name = rest.split(" (id").next().unwrap_or(rest);
            let again = if why.starts_with("re-") { "again " } else { "" };
            format!("{again}when the event {name} occurred")
        } else if why.starts_with("met the criteria when the workflow was turned on") {
            "met the criteria when the workflow was turned on".to_string()
        } else if why.starts_with("re-enrolled") {
            "met the criteria again after a chosen property changed".to_string()
        } else if why.starts_with("enrolled manually") {
            "enrolled manually".to_string()
        } else {
            why.to_string()
        };
        let date = anchor
            .and_then(|a| {
                let (date, cycle) = a.split_once(", cycle ")?;
                Some(format!(
                    " · cycle {cycle}, centred on {} ({})",
                    date_words(date),
                    self.date_name()
                ))
            })
            .unwrap_or_default();
        format!("Enrolled: {why}{date}")
    }

    /// Replaces "list 4" / "workflow 7" (ids in recorded reasons) with their names.
    fn with_names(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (word, labels) in [
            ("suppression list ", &self.names.lists),
            ("list ", &self.names.lists),
            ("workflow ", &self.names.workflows),
        ] {
            if let Some(pos) = out.find(word) {
                let start = pos + word.len();
                let digits: String = out[start..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Some(name) = digits.parse::<i64>().ok().and_then(|id| labels.get(&id)) {
                    out.replace_range(start..start + digits.len(), &format!("“{name}”"));
                }
            }
        }
        out
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep "On Renewal date…" readable after "Waits until …:"; lower only plain words.
        Some(f) if s.len() > 1 && !s[f.len_utf8()..].starts_with(char::is_uppercase) => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_string(),
    }
}

/// What each event is called on pages.
pub fn event_label(event: &str) -> &'static str {
    match event {
        history::ENROLLED => "Enrolled",
        history::SCHEDULED => "Scheduled",
        history::RESCHEDULED => "Rescheduled",
        history::ACTION_EXECUTED => "Action executed",
        history::ACTION_FAILED => "Action failed",
        history::SKIPPED => "Skipped",
        history::UNENROLLED => "Unenrolled",
        history::COMPLETED => "Completed",
        _ => "Event",
    }
}

#[cfg(test)]
mod tests;
