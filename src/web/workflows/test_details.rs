//! What the Test page says under a step of the timeline for one contact: the if/then path it
//! takes today, a wait's Met and Timed out paths, the random split path it gets, and an email
//! the pacing defers (issue 17), from the preview's verdict; and, under a step that forks,
//! the steps of the path this contact takes, each explained the same way (nested forks too).

use super::describe::{self, Names};
use crate::domain::definition::{Definition, Step, TimeUnit};
use crate::engine::preview::Verdict;

fn timeout_words(amount: u32, unit: TimeUnit) -> String {
    let (one, many) = match unit {
        TimeUnit::Minutes => ("minute", "minutes"),
        TimeUnit::Hours => ("hour", "hours"),
        TimeUnit::Days => ("day", "days"),
        TimeUnit::Weeks => ("week", "weeks"),
    };
    format!("{amount} {}", if amount == 1 { one } else { many })
}

/// The line under the step at `path` (`due`: its time as the page shows it, for a top-level
/// step; "" for a nested one), if any.
pub fn step_detail(
    step: Option<&Step>,
    verdict: &Verdict,
    path: &str,
    due: &str,
) -> Option<String> {
    if let Some((_, yes)) = verdict.branches.iter().find(|(p, _)| p == path) {
        return Some(format!(
            "Today this contact takes the “{}” path.",
            if *yes { "Yes" } else { "No" }
        ));
    }
    if let Some((_, met)) = verdict.waits.iter().find(|(p, _)| p == path) {
        if *met {
            return Some(
                "Met path: this contact already meets the condition, so it goes on at once.".into(),
            );
        }
        let (what, timeout) = match step {
            Some(Step::WaitUntil {
                condition,
                event,
                timeout,
                ..
            }) => {
                let what = match (condition.is_empty(), event.as_deref()) {
                    (false, Some(e)) => format!("the condition, or the event “{e}”"),
                    (true, Some(e)) => format!("the event “{e}”"),
                    _ => "the condition".to_string(),
                };
                (what, timeout_words(timeout.amount, timeout.unit))
            }
            _ => ("the condition".to_string(), "the timeout".to_string()),
        };
        return Some(format!(
            "Waits for {what}: the Met path the moment it happens; the Timed out path after {timeout} without it."
        ));
    }
    if let Some((_, path)) = verdict.splits.iter().find(|(p, _)| p == path) {
        return Some(match path {
            Some(name) => format!("This contact takes path “{name}”."),
            None => "This contact is in the holdout: nothing more runs for it.".into(),
        });
    }
    let index = path.parse::<usize>().ok()?;
    if let Some((_, text)) = verdict.deferred.iter().find(|(i, _)| *i == index) {
        let why = text
            .strip_prefix("deferred by pacing (")
            .and_then(|r| r.rsplit_once(") to "))
            .map(|(why, _)| why)
            .unwrap_or(text);
        return Some(format!("Deferred by pacing to {due}: {why}."));
    }
    None
}

/// One line of the steps nested under a fork on the Test page.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedLine {
    /// How deep it is (1: directly under the top-level fork), for its indent (capped at 4).
    pub depth: usize,
    /// A path's heading ("On the “Yes” path:"), not a step.
    pub heading: bool,
    /// The heading's words, or the step's type label.
    pub label: String,
    /// The step in words, and what this contact gets at it.
    pub text: String,
    pub detail: Option<String>,
}

/// What runs for this contact inside the fork at `path`: the path it takes (both paths of a
/// wait whose condition does not hold yet), each step in words with its own detail, and
/// nested forks walked the same way. Nested steps have no due time of their own on the page:
/// when they run depends on when the fork is decided.
pub fn nested_lines(
    def: &Definition,
    step: &Step,
    path: &str,
    verdict: &Verdict,
    names: &Names,
    tz_name: &str,
) -> Vec<NestedLine> {
    let mut walk = Walk {
        def,
        verdict,
        names,
        tz_name,
        out: Vec::new(),
    };
    walk.arms(step, path, 1);
    walk.out
}

/// What [`nested_lines`] reads from, and the lines so far.
struct Walk<'a> {
    def: &'a Definition,
    verdict: &'a Verdict,
    names: &'a Names,
    tz_name: &'a str,
    out: Vec<NestedLine>,
}

impl Walk<'_> {
    /// The taken arms of `step` (at `path`), at `depth`, and the forks nested in them.
    fn arms(&mut self, step: &Step, path: &str, depth: usize) {
        for arm in arms_taken(step, path, self.verdict) {
            let Some(list) = step.arm(&arm) else {
                continue;
            };
            self.out.push(NestedLine {
                depth,
                heading: true,
                label: arm_heading(step, &arm),
                text: if list.is_empty() {
                    "no steps of its own: the contact goes on after this step.".into()
                } else {
                    String::new()
                },
                detail: None,
            });
            for (i, inner) in list.iter().enumerate() {
                let inner_path = format!("{path}/{arm}/{i}");
                self.out.push(NestedLine {
                    depth: depth + 1,
                    heading: false,
                    label: describe::step_type_label(inner.type_name()).to_string(),
                    text: describe::step_words(inner, self.def, self.names, self.tz_name),
                    detail: step_detail(Some(inner), self.verdict, &inner_path, ""),
                });
                self.arms(inner, &inner_path, depth + 2);
            }
        }
    }
}

/// The arms of `step` (at `path`) this contact can take, in the order the page lists them.
fn arms_taken(step: &Step, path: &str, verdict: &Verdict) -> Vec<String> {
    match step {
        Step::Branch { .. } => verdict
            .branches
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, yes)| vec![if *yes { "yes" } else { "no" }.to_string()])
            .unwrap_or_default(),
        Step::WaitUntil { .. } => match verdict.waits.iter().find(|(p, _)| p == path) {
            Some((_, true)) => vec!["met".to_string()],
            _ => vec!["met".to_string(), "timed_out".to_string()],
        },
        Step::RandomSplit { paths, .. } => verdict
            .splits
            .iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, name)| name.as_ref())
            .and_then(|name| paths.iter().position(|p| &p.name == name))
            .map(|k| vec![format!("p{k}")])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn arm_heading(step: &Step, arm: &str) -> String {
    match (step, arm) {
        (Step::Branch { .. }, "yes") => "On the “Yes” path:".into(),
        (Step::Branch { .. }, _) => "On the “No” path:".into(),
        (Step::WaitUntil { .. }, "met") => "On the Met path:".into(),
        (Step::WaitUntil { .. }, _) => "On the Timed out path:".into(),
        _ => format!("On {}:", crate::domain::paths::arm_label(step, arm)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fork_and_deferral_in_words() {
        let v = Verdict {
            waits: vec![("0".into(), false), ("1".into(), true)],
            splits: vec![("2".into(), Some("A".into())), ("3".into(), None)],
            deferred: vec![(
                4,
                "deferred by pacing (quiet hours 21:00–08:00 (UTC)) to 2026-01-02T08:00:00+00:00"
                    .into(),
            )],
            ..Default::default()
        };
        let wait: Step = serde_json::from_value(serde_json::json!({"type": "wait_until",
            "event": "paid", "timeout": {"amount": 3, "unit": "days"}}))
        .unwrap();
        let d = step_detail(Some(&wait), &v, "0", "").unwrap_or_default();
        assert!(
            d.contains("the event “paid”") && d.contains("Timed out path after 3 days"),
            "{d}"
        );
        assert!(step_detail(None, &v, "1", "")
            .unwrap_or_default()
            .starts_with("Met path"));
        assert_eq!(
            step_detail(None, &v, "2", "").as_deref(),
            Some("This contact takes path “A”.")
        );
        assert!(step_detail(None, &v, "3", "")
            .unwrap_or_default()
            .contains("holdout"));
        assert_eq!(
            step_detail(None, &v, "4", "2026-01-02 08:00 UTC").as_deref(),
            Some("Deferred by pacing to 2026-01-02 08:00 UTC: quiet hours 21:00–08:00 (UTC).")
        );
    }

    /// A renewal workflow whose if/then branch holds a wait until, which holds a random split:
    /// the Test page lists the path this contact takes at each level, both paths of a wait
    /// that has not been met, and nothing of the paths it does not take.
    #[test]
    fn nested_forks_list_the_paths_taken() {
        let def: Definition = serde_json::from_value(serde_json::json!({
            "name": "Renewal",
            "start": {"type": "blank"},
            "triggers": {"filter_groups": []},
            "steps": [
                {"type": "branch", "condition": [[{"property": "plan", "operator": "eq", "value": "pro"}]],
                 "yes": [
                    {"type": "wait_until", "event": "renewed", "timeout": {"amount": 2, "unit": "weeks"},
                     "met": [{"type": "send_email", "subject": "Thanks", "body": "b"}],
                     "timed_out": [
                        {"type": "random_split", "paths": [
                            {"name": "Call", "percent": 50, "steps": [{"type": "create_task", "title": "Call them"}]},
                            {"name": "Mail", "percent": 50, "steps": [{"type": "send_email", "subject": "Last chance", "body": "b"}]}]}]}],
                 "no": [{"type": "send_email", "subject": "Upgrade?", "body": "b"}]}
            ]
        }))
        .unwrap();
        let v = Verdict {
            branches: vec![("0".into(), true)],
            waits: vec![("0/yes/0".into(), false)],
            splits: vec![("0/yes/0/timed_out/0".into(), Some("Mail".into()))],
            ..Default::default()
        };
        let lines = nested_lines(&def, &def.steps[0], "0", &v, &Names::default(), "UTC");
        let shown: Vec<(usize, bool, &str)> = lines
            .iter()
            .map(|l| (l.depth, l.heading, l.label.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (1, true, "On the “Yes” path:"),
                (2, false, "Wait until"),
                (3, true, "On the Met path:"),
                (4, false, "Send email"),
                (3, true, "On the Timed out path:"),
                (4, false, "Random split"),
                (5, true, "On path “Mail”:"),
                (6, false, "Send email"),
            ],
            "{lines:#?}"
        );
        let wait = &lines[1];
        assert!(
            wait.detail
                .as_deref()
                .unwrap_or_default()
                .contains("Timed out path after 2 weeks"),
            "{wait:?}"
        );
        assert_eq!(
            lines[5].detail.as_deref(),
            Some("This contact takes path “Mail”.")
        );
        assert!(
            lines.iter().all(|l| !l.text.contains("Upgrade?")),
            "{lines:#?}"
        );
    }
}
