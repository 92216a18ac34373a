//! Review's sentences for issue 17: the goal, each wait until and random split (with what
//! each of its paths does), and the email pacing that applies.

use super::describe::{self, Names};
use crate::domain::definition::{Definition, Pacing, Step};

/// The goal in a sentence.
pub fn goal_sentence(def: &Definition, names: &Names) -> String {
    let groups = def
        .goal
        .as_ref()
        .map(|g| g.filter_groups.as_slice())
        .unwrap_or(&[]);
    if groups.is_empty() {
        return "No goal: contacts go through every step. Set one to count conversions.".into();
    }
    format!(
        "Contacts who meet {} have converted: they leave the workflow at once, wherever they are. Contacts who already meet it are not enrolled.",
        describe::groups_words(groups, names).join(", or ")
    )
}

fn arm_steps(n: usize) -> String {
    match n {
        0 => "nothing more (the contact goes on after the step)".into(),
        1 => "1 step".into(),
        n => format!("{n} steps"),
    }
}

/// One sentence per wait until and random split, at any depth ("Step 2: …").
pub fn fork_sentences(def: &Definition, names: &Names, tz_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    walk(&def.steps, "", def, names, tz_name, &mut out);
    out
}

fn walk(
    steps: &[Step],
    prefix: &str,
    def: &Definition,
    names: &Names,
    tz: &str,
    out: &mut Vec<String>,
) {
    for (i, step) in steps.iter().enumerate() {
        let path = if prefix.is_empty() {
            i.to_string()
        } else {
            format!("{prefix}/{i}")
        };
        let place = format!("Step {}", describe::step_path_label(&path));
        match step {
            Step::WaitUntil { met, timed_out, .. } => out.push(format!(
                "{place}: {}. When it happens, the Met path: {}; when the time is up, the Timed out path: {}.",
                describe::step_words(step, def, names, tz),
                arm_steps(met.len()),
                arm_steps(timed_out.len())
            )),
            Step::RandomSplit {
                paths,
                holdout_percent,
            } => {
                let mut parts: Vec<String> = paths
                    .iter()
                    .map(|p| format!("{}% take path “{}” ({})", p.percent, p.name, arm_steps(p.steps.len())))
                    .collect();
                if *holdout_percent > 0 {
                    parts.push(format!(
                        "{holdout_percent}% are held out and get nothing (to compare the goal rate with)"
                    ));
                }
                out.push(format!(
                    "{place}: contacts are split at random, each keeping its path: {}.",
                    parts.join("; ")
                ));
            }
            _ => {}
        }
        for (arm, list) in step.arms() {
            walk(list, &format!("{path}/{arm}"), def, names, tz, out);
        }
    }
}

/// Which email pacing applies, in a sentence.
pub fn pacing_sentence(own: Option<&Pacing>, account: Option<&Pacing>) -> String {
    match own {
        Some(p) => format!(
            "This workflow's own pacing: {}.",
            crate::web::pacing_form::pacing_words(Some(p))
        ),
        None => format!(
            "The account's pacing: {}.",
            crate::web::pacing_form::pacing_words(account)
        ),
    }
}
