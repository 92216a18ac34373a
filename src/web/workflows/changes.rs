//! Two versions of a workflow compared in words (issue 13): what Review and update will change
//! in a live workflow, and what one revision changed against another on the Revisions page.
//! Steps are matched with a Myers diff over their definitions (branch arms compared on their
//! own), so inserting a step reads as one step added rather than every later step changed.

use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffOp};

use super::describe::{self, Names};
use crate::domain::definition::{Definition, Step};

/// One step, flattened, with what identifies it for the diff.
struct Flat {
    /// "2", "4 › yes › 1"
    number: String,
    words: String,
    /// The arm it is in and its JSON without its arms: equal keys are the same step.
    key: String,
}

fn flatten(def: &Definition, names: &Names, tz: &str) -> Vec<Flat> {
    let mut out = Vec::new();
    walk(&def.steps, def, names, tz, "", "", &mut out);
    out
}

fn walk(
    steps: &[Step],
    def: &Definition,
    names: &Names,
    tz: &str,
    number_prefix: &str,
    arm: &str,
    out: &mut Vec<Flat>,
) {
    for (i, step) in steps.iter().enumerate() {
        let number = format!("{number_prefix}{}", i + 1);
        let mut json = serde_json::to_value(step).unwrap_or(Value::Null);
        if let Some(obj) = json.as_object_mut() {
            obj.remove("yes");
            obj.remove("no");
        }
        out.push(Flat {
            number: number.clone(),
            words: describe::step_words(step, def, names, tz),
            key: format!("{arm}\u{1}{json}"),
        });
        if let Step::Branch { yes, no, .. } = step {
            for (path, arm_steps) in [("yes", yes), ("no", no)] {
                walk(
                    arm_steps,
                    def,
                    names,
                    tz,
                    &format!("{number} › {path} › "),
                    &format!("{arm}{number}/{path}/"),
                    out,
                );
            }
        }
    }
}

/// "was “a”, now “b”"
fn was_now(old: &str, new: &str) -> String {
    format!("was “{old}”, now “{new}”")
}

fn trigger_words(def: &Definition, names: &Names) -> String {
    if def.triggers.manual_only {
        return "enroll manually only".into();
    }
    let mut parts = describe::groups_words(&def.triggers.filter_groups, names);
    parts.extend(
        def.triggers
            .events
            .iter()
            .map(|t| describe::event_trigger_words(t, names)),
    );
    if parts.is_empty() {
        if def.start.is_date_centred() && def.enrolls_on_criteria() {
            "the built-in trigger alone".into()
        } else {
            "no triggers (manual enrollment only)".into()
        }
    } else {
        parts.join(" or ")
    }
}

/// Every difference from `old` to `new`, one sentence each; empty when they are the same.
pub fn changes(
    old: &Definition,
    new: &Definition,
    names: &Names,
    tz: &str,
    account_tz: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    if old.name.trim() != new.name.trim() {
        out.push(format!(
            "Renamed: {}.",
            was_now(old.name.trim(), new.name.trim())
        ));
    }
    let (s_old, s_new) = (
        describe::start_words(old, names),
        describe::start_words(new, names),
    );
    if s_old != s_new {
        out.push(format!("Date changed: {}.", was_now(&s_old, &s_new)));
    }
    if old.recur_annually != new.recur_annually {
        out.push(
            if new.recur_annually {
                "Repeat annually turned on."
            } else {
                "Repeat annually turned off."
            }
            .into(),
        );
    }
    let (t_old, t_new) = (trigger_words(old, names), trigger_words(new, names));
    if t_old != t_new {
        out.push(format!(
            "Enrollment triggers changed: {}.",
            was_now(&t_old, &t_new)
        ));
    } else if serde_json::to_value(&old.triggers).ok() != serde_json::to_value(&new.triggers).ok() {
        out.push("Enrollment triggers changed (details of a filter).".into());
    }
    if serde_json::to_value(&old.reenroll).ok() != serde_json::to_value(&new.reenroll).ok() {
        out.push(
            if new.reenroll.enabled || new.reenroll.on_events {
                "Re-enrollment changed: contacts can enroll again as set on the trigger card."
            } else {
                "Re-enrollment changed: contacts are enrolled once."
            }
            .into(),
        );
    }
    let goal = |d: &Definition| {
        let words = describe::groups_words(
            d.goal
                .as_ref()
                .map(|g| g.filter_groups.as_slice())
                .unwrap_or(&[]),
            names,
        );
        if words.is_empty() {
            "no goal".to_string()
        } else {
            words.join(", or ")
        }
    };
    let (g_old, g_new) = (goal(old), goal(new));
    if g_old != g_new {
        out.push(format!("Goal changed: {}.", was_now(&g_old, &g_new)));
    }
    step_changes(old, new, names, tz, &mut out);
    let lines_old = describe::settings_lines(&old.settings, old.recur_annually, account_tz, names);
    let lines_new = describe::settings_lines(&new.settings, new.recur_annually, account_tz, names);
    for (label, value) in &lines_new {
        match lines_old.iter().find(|(l, _)| l == label) {
            Some((_, before)) if before != value => out.push(format!(
                "Setting “{label}” changed: {}.",
                was_now(before, value)
            )),
            None => out.push(format!("Setting “{label}” set to “{value}”.")),
            _ => {}
        }
    }
    for (label, before) in &lines_old {
        if !lines_new.iter().any(|(l, _)| l == label) {
            out.push(format!("Setting “{label}” removed (was “{before}”)."));
        }
    }
    out
}

fn step_changes(
    old: &Definition,
    new: &Definition,
    names: &Names,
    tz: &str,
    out: &mut Vec<String>,
) {
    let a = flatten(old, names, tz);
    let b = flatten(new, names, tz);
    let ka: Vec<&str> = a.iter().map(|f| f.key.as_str()).collect();
    let kb: Vec<&str> = b.iter().map(|f| f.key.as_str()).collect();
    for op in capture_diff_slices(Algorithm::Myers, &ka, &kb) {
        match op {
            DiffOp::Equal { .. } => {}
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                for f in &a[old_index..old_index + old_len] {
                    out.push(format!("Step {} removed: {}.", f.number, f.words));
                }
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                for f in &b[new_index..new_index + new_len] {
                    out.push(format!("Step {} added: {}.", f.number, f.words));
                }
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let paired = old_len.min(new_len);
                for k in 0..paired {
                    let (x, y) = (&a[old_index + k], &b[new_index + k]);
                    out.push(if x.words == y.words {
                        format!(
                            "Step {} changed: {} (its content, e.g. an email's body).",
                            y.number, y.words
                        )
                    } else {
                        format!(
                            "Step {} changed: {}.",
                            y.number,
                            was_now(&x.words, &y.words)
                        )
                    });
                }
                for f in &a[old_index + paired..old_index + old_len] {
                    out.push(format!("Step {} removed: {}.", f.number, f.words));
                }
                for f in &b[new_index + paired..new_index + new_len] {
                    out.push(format!("Step {} added: {}.", f.number, f.words));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(steps: Value) -> Definition {
        serde_json::from_value(serde_json::json!({
            "name": "Renewal",
            "start": {"type": "contact_date_property", "property": "renewal_date"},
            "recur_annually": true,
            "steps": steps,
        }))
        .expect("a valid definition")
    }

    fn email(subject: &str) -> Value {
        serde_json::json!({"type": "send_email", "subject": subject, "body": "Hi"})
    }

    fn delay(days: u32) -> Value {
        serde_json::json!({"type": "date_delay", "when": "before", "amount": days, "unit": "days", "time_of_day": "09:00"})
    }

    fn diff(a: &Definition, b: &Definition) -> Vec<String> {
        changes(a, b, &Names::default(), "Europe/Oslo", "Europe/Oslo")
    }

    #[test]
    fn identical_versions_have_no_changes() {
        let a = def(serde_json::json!([delay(30), email("Soon")]));
        assert!(diff(&a, &a.clone()).is_empty());
    }

    #[test]
    fn an_inserted_step_is_one_addition_not_every_later_step_changed() {
        let a = def(serde_json::json!([delay(30), email("In 30 days")]));
        let b = def(serde_json::json!([
            delay(30),
            email("In 30 days"),
            delay(7),
            email("In 7 days")
        ]));
        let got = diff(&a, &b);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("Step 3 added:"), "{got:?}");
        assert!(
            got[1].starts_with("Step 4 added:") && got[1].contains("In 7 days"),
            "{got:?}"
        );
    }

    #[test]
    fn a_removed_step_and_a_changed_one_are_told_apart() {
        let a = def(serde_json::json!([
            delay(30),
            email("A"),
            delay(7),
            email("B")
        ]));
        let b = def(serde_json::json!([delay(30), email("A changed"), delay(7)]));
        let got = diff(&a, &b);
        assert!(
            got.iter()
                .any(|l| l.starts_with("Step 2 changed:") && l.contains("A changed")),
            "{got:?}"
        );
        assert!(
            got.iter().any(|l| l.starts_with("Step 4 removed:")),
            "{got:?}"
        );
    }

    #[test]
    fn a_body_only_edit_says_the_content_changed() {
        let a = def(serde_json::json!([email("Same")]));
        let mut b = a.clone();
        if let Step::SendEmail { body, .. } = &mut b.steps[0] {
            *body = "Another body".into();
        }
        let got = diff(&a, &b);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("its content"), "{got:?}");
    }

    #[test]
    fn name_recurrence_and_settings_changes_are_sentences() {
        let a = def(serde_json::json!([email("A")]));
        let mut b = a.clone();
        b.name = "Renewal reminder".into();
        b.recur_annually = false;
        b.settings.time_zone = Some("America/New_York".into());
        let got = diff(&a, &b);
        assert!(
            got.contains(&"Renamed: was “Renewal”, now “Renewal reminder”.".to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&"Repeat annually turned off.".to_string()),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|l| l.starts_with("Setting “Time zone” changed")
                    && l.contains("America/New_York")),
            "{got:?}"
        );
    }
}
