//! Step paths: where an enrollment is in a workflow's tree of steps.
//!
//! A path is the top-level index, then, inside a step that forks (an if/then branch, a wait
//! until, a random split), the name of the arm taken and the index in it: `3`, `3/yes/0`,
//! `3/met/1`, `2/p1/0/no/0`. Arm names are those of [`Step::arms`]: `yes`/`no`,
//! `met`/`timed_out`, `p0`, `p1`, …
//!
//! One state is not a step of its own: a contact waiting at a wait-until step for its
//! condition or event is at `<path of the wait>/wait` (due when the wait times out).
//!
//! The worker moves enrollments along these paths; pages name them for people. Pure: no I/O.

use super::definition::Step;

/// The suffix of a path whose contact is waiting at a wait-until step.
pub const WAITING: &str = "wait";

/// A path split into `(index, arm taken inside that step)` pairs; the last pair has no arm
/// (or `Some("wait")` for a waiting contact).
pub fn parse(path: &str) -> Option<Vec<(usize, Option<String>)>> {
    let parts: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let idx: usize = parts[i].parse().ok()?;
        let arm = parts.get(i + 1).map(|s| s.to_string());
        if arm.as_deref().is_some_and(str::is_empty) {
            return None;
        }
        out.push((idx, arm));
        i += 2;
    }
    Some(out)
}

pub fn format(p: &[(usize, Option<String>)]) -> String {
    p.iter()
        .map(|(i, arm)| match arm {
            None => i.to_string(),
            Some(a) => format!("{i}/{a}"),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the path is a contact waiting at a wait-until step (`…/wait`).
pub fn is_waiting(path: &str) -> bool {
    path.rsplit('/').next() == Some(WAITING)
}

/// The path of the wait-until step a waiting path (`3/wait`) waits at.
pub fn waiting_at(path: &str) -> Option<&str> {
    path.strip_suffix(WAITING)?.strip_suffix('/')
}

/// The list the path's last index points into.
fn list_at<'a>(steps: &'a [Step], path: &[(usize, Option<String>)]) -> Option<&'a [Step]> {
    let mut list = steps;
    for (idx, arm) in &path[..path.len().saturating_sub(1)] {
        list = list.get(*idx)?.arm(arm.as_deref()?)?;
    }
    Some(list)
}

/// The list that holds the step at `path`, and its index there.
pub fn list_of<'a>(steps: &'a [Step], path: &str) -> Option<(&'a [Step], usize)> {
    let path = waiting_at(path).unwrap_or(path);
    let p = parse(path)?;
    let (last, _) = *p.last()?;
    Some((list_at(steps, &p)?, last))
}

/// The step at `path` (for a waiting path, the wait-until step).
pub fn step_at<'a>(steps: &'a [Step], path: &str) -> Option<&'a Step> {
    let path = waiting_at(path).unwrap_or(path);
    let p = parse(path)?;
    let (last, _) = *p.last()?;
    list_at(steps, &p)?.get(last)
}

/// The path after `path` in order: the next step of its list, or — at the end of an arm —
/// the step after the fork that holds it. `None` at the end of the workflow.
pub fn next(steps: &[Step], path: &str) -> Option<String> {
    let path = waiting_at(path).unwrap_or(path);
    let mut p = parse(path)?;
    loop {
        let (last, _) = *p.last()?;
        let len = list_at(steps, &p)?.len();
        if last + 1 < len {
            if let Some(seg) = p.last_mut() {
                seg.0 = last + 1;
            }
            return Some(format(&p));
        }
        // The end of an arm: carry on after the fork that holds it.
        p.pop();
        p.last_mut()?.1 = None;
    }
}

/// The first step of the arm `arm` of the fork at `path`, if that arm has any steps.
pub fn arm_entry(steps: &[Step], path: &str, arm: &str) -> Option<String> {
    let list = step_at(steps, path)?.arm(arm)?;
    if list.is_empty() {
        None
    } else {
        Some(format!("{path}/{arm}/0"))
    }
}

/// Where a contact goes when it takes `arm` at the fork `path`: the arm's first step, or the
/// step after the fork when the arm is empty.
pub fn take_arm(steps: &[Step], path: &str, arm: &str) -> Option<String> {
    arm_entry(steps, path, arm).or_else(|| next(steps, path))
}

/// What people call an arm: "yes", "no", "condition met", "timed out", a split path's name.
pub fn arm_label(step: &Step, arm: &str) -> String {
    match (step, arm) {
        (Step::WaitUntil { .. }, "met") => "met".to_string(),
        (Step::WaitUntil { .. }, "timed_out") => "timed out".to_string(),
        (Step::RandomSplit { paths, .. }, p) => p
            .strip_prefix('p')
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| paths.get(i))
            .map(|p| format!("path “{}”", p.name))
            .unwrap_or_else(|| arm.to_string()),
        _ => arm.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::definition::{SplitPath, TimeUnit, Timeout};

    fn email(s: &str) -> Step {
        Step::SendEmail {
            subject: s.into(),
            body: "b".into(),
        }
    }

    fn tree() -> Vec<Step> {
        vec![
            email("0"),
            Step::WaitUntil {
                condition: vec![],
                event: Some("renewed".into()),
                timeout: Timeout {
                    amount: 3,
                    unit: TimeUnit::Days,
                },
                met: vec![email("met 0")],
                timed_out: vec![email("late 0"), email("late 1")],
            },
            Step::RandomSplit {
                paths: vec![
                    SplitPath {
                        name: "A".into(),
                        percent: 50,
                        steps: vec![email("A 0")],
                    },
                    SplitPath {
                        name: "B".into(),
                        percent: 40,
                        steps: vec![],
                    },
                ],
                holdout_percent: 10,
            },
            email("3"),
        ]
    }

    #[test]
    fn paths_walk_into_and_out_of_nested_branches() {
        let s: Vec<Step> = serde_json::from_value(serde_json::json!([
            {"type": "delay", "amount": 1, "unit": "hours"},
            {"type": "branch", "condition": [], "yes": [
                {"type": "clear_property", "property": "a"},
                {"type": "branch", "condition": [], "yes": [{"type": "clear_property", "property": "b"}], "no": []}
            ], "no": []},
            {"type": "clear_property", "property": "c"}
        ]))
        .expect("steps");
        let cases = [
            ("0", Some("1")),
            ("1", Some("2")),
            ("1/yes/0", Some("1/yes/1")),
            ("1/yes/1", Some("2")),
            ("1/yes/1/yes/0", Some("2")),
            ("2", None),
        ];
        for (from, want) in cases {
            assert_eq!(next(&s, from).as_deref(), want, "after {from}");
        }
        assert_eq!(arm_entry(&s, "1", "yes").as_deref(), Some("1/yes/0"));
        assert_eq!(arm_entry(&s, "1", "no"), None);
        assert!(matches!(
            step_at(&s, "1/yes/1/yes/0"),
            Some(Step::ClearProperty { .. })
        ));
        assert!(step_at(&s, "7").is_none());
        assert!(step_at(&s, "1/maybe/0").is_none());
    }

    #[test]
    fn paths_walk_into_and_out_of_every_kind_of_fork() {
        let t = tree();
        let subject = |p: &str| match step_at(&t, p) {
            Some(Step::SendEmail { subject, .. }) => subject.clone(),
            Some(s) => s.type_name().to_string(),
            None => "-".into(),
        };
        assert_eq!(subject("1/timed_out/1"), "late 1");
        assert_eq!(subject("1/wait"), "wait_until");
        assert_eq!(subject("2/p0/0"), "A 0");
        assert_eq!(subject("2/p2/0"), "-");
        assert_eq!(subject("1/yes/0"), "-");
        assert_eq!(next(&t, "0").as_deref(), Some("1"));
        assert_eq!(next(&t, "1/met/0").as_deref(), Some("2"));
        assert_eq!(next(&t, "1/timed_out/0").as_deref(), Some("1/timed_out/1"));
        assert_eq!(next(&t, "1/wait").as_deref(), Some("2"));
        assert_eq!(next(&t, "3"), None);
        assert_eq!(take_arm(&t, "1", "met").as_deref(), Some("1/met/0"));
        assert_eq!(
            take_arm(&t, "2", "p1").as_deref(),
            Some("3"),
            "empty arm: carry on"
        );
        assert!(is_waiting("1/wait") && !is_waiting("1/met/0"));
        assert_eq!(waiting_at("2/p0/0/wait"), Some("2/p0/0"));
        assert_eq!(arm_label(&t[2], "p1"), "path “B”");
        assert_eq!(arm_label(&t[1], "timed_out"), "timed out");
        assert_eq!(parse("3/"), None);
    }
}
