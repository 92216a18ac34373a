//! What the Test page says under a step of the timeline for one contact: the if/then path it
//! takes today, a wait's Met and Timed out paths, the random split path it gets, and an email
//! the pacing defers (issue 17), from the preview's verdict.

use crate::domain::definition::{Step, TimeUnit};
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

/// The line under top-level step `index` (`due`: its time as the page shows it), if any.
pub fn step_detail(
    step: Option<&Step>,
    verdict: &Verdict,
    index: usize,
    due: &str,
) -> Option<String> {
    if let Some((_, yes)) = verdict.branches.iter().find(|(i, _)| *i == index) {
        return Some(format!(
            "Today this contact takes the “{}” path.",
            if *yes { "Yes" } else { "No" }
        ));
    }
    if let Some((_, met)) = verdict.waits.iter().find(|(i, _)| *i == index) {
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
    if let Some((_, path)) = verdict.splits.iter().find(|(i, _)| *i == index) {
        return Some(match path {
            Some(name) => format!("This contact takes path “{name}”."),
            None => "This contact is in the holdout: nothing more runs for it.".into(),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fork_and_deferral_in_words() {
        let v = Verdict {
            waits: vec![(0, false), (1, true)],
            splits: vec![(2, Some("A".into())), (3, None)],
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
        let d = step_detail(Some(&wait), &v, 0, "").unwrap_or_default();
        assert!(
            d.contains("the event “paid”") && d.contains("Timed out path after 3 days"),
            "{d}"
        );
        assert!(step_detail(None, &v, 1, "")
            .unwrap_or_default()
            .starts_with("Met path"));
        assert_eq!(
            step_detail(None, &v, 2, "").as_deref(),
            Some("This contact takes path “A”.")
        );
        assert!(step_detail(None, &v, 3, "")
            .unwrap_or_default()
            .contains("holdout"));
        assert_eq!(
            step_detail(None, &v, 4, "2026-01-02 08:00 UTC").as_deref(),
            Some("Deferred by pacing to 2026-01-02 08:00 UTC: quiet hours 21:00–08:00 (UTC).")
        );
    }
}
