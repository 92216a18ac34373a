//! The goal on the Performance page (issue 17): conversions and the conversion rate, and for
//! each random split the goal rate of each path beside the holdout's
//! (`db::queries::{conversions, split_outcomes}`).

use chrono::NaiveDate;

use super::describe::{self, Names};
use crate::db::DbConnection;
use crate::domain::definition::{Definition, Step};
use crate::domain::filter::{compile_groups, Cond};
use crate::web::filters::thousands;

pub struct GoalSummary {
    /// The goal in words, a line per group; empty: no goal.
    pub goal: Vec<String>,
    pub enrolled: String,
    pub converted: String,
    pub rate: String,
    pub splits: Vec<SplitTable>,
}

pub struct SplitTable {
    /// "Step 3 · Random split: A 45%, B 45%, holdout 10% (gets nothing)".
    pub title: String,
    pub rows: Vec<SplitRow>,
}

pub struct SplitRow {
    pub name: String,
    pub holdout: bool,
    pub contacts: String,
    pub converted: String,
    pub rate: String,
    /// "+4.0 points" against the holdout, "—" without one.
    pub vs_holdout: String,
}

/// `converted` of `of` as a percentage with one decimal, "—" of none.
fn percent(converted: i64, of: i64) -> (String, Option<f64>) {
    if of == 0 {
        return ("—".into(), None);
    }
    let r = converted as f64 * 100.0 / of as f64;
    (format!("{r:.1}%"), Some(r))
}

/// Every random split of the steps with its step path (`2`, `1/met/0`).
fn splits(steps: &[Step], prefix: &str, out: &mut Vec<(String, Step)>) {
    for (i, step) in steps.iter().enumerate() {
        let path = if prefix.is_empty() {
            i.to_string()
        } else {
            format!("{prefix}/{i}")
        };
        if matches!(step, Step::RandomSplit { .. }) {
            out.push((path.clone(), step.clone()));
        }
        for (arm, list) in step.arms() {
            splits(list, &format!("{path}/{arm}"), out);
        }
    }
}

pub fn load(
    conn: &mut DbConnection,
    workflow_id: i64,
    def: &Definition,
    names: &Names,
    today: NaiveDate,
) -> anyhow::Result<GoalSummary> {
    let groups = def
        .goal
        .as_ref()
        .map(|g| g.filter_groups.as_slice())
        .unwrap_or(&[]);
    let cond = if groups.is_empty() {
        Cond::FALSE
    } else {
        let catalog = crate::services::workflows::catalog(conn)?;
        compile_groups(groups, &catalog, today).unwrap_or(Cond::FALSE)
    };
    let (enrolled, converted) = crate::db::queries::conversions(conn, workflow_id)?;
    let mut found = Vec::new();
    splits(&def.steps, "", &mut found);
    let mut tables = Vec::new();
    for (path, step) in found {
        let Step::RandomSplit {
            paths,
            holdout_percent,
        } = &step
        else {
            continue;
        };
        let outcomes = crate::db::queries::split_outcomes(conn, workflow_id, &path, &cond)?;
        let of = |detail: &str| {
            outcomes
                .iter()
                .find(|(d, _, _)| d == detail)
                .map(|(_, n, c)| (*n, *c))
                .unwrap_or((0, 0))
        };
        let holdout = (*holdout_percent > 0).then(|| of("random split: holdout (gets nothing)"));
        let holdout_rate = holdout.and_then(|(n, c)| percent(c, n).1);
        let mut rows: Vec<SplitRow> = paths
            .iter()
            .map(|p| {
                let (n, c) = of(&format!("random split: took path “{}”", p.name));
                let (rate, r) = percent(c, n);
                let vs_holdout = match (r, holdout_rate) {
                    (Some(r), Some(h)) => format!("{:+.1} points", r - h),
                    _ => "—".into(),
                };
                SplitRow {
                    name: format!("{} ({}%)", p.name, p.percent),
                    holdout: false,
                    contacts: thousands(n),
                    converted: thousands(c),
                    rate,
                    vs_holdout,
                }
            })
            .collect();
        if let Some((n, c)) = holdout {
            rows.push(SplitRow {
                name: format!("Holdout ({holdout_percent}%)"),
                holdout: true,
                contacts: thousands(n),
                converted: thousands(c),
                rate: percent(c, n).0,
                vs_holdout: "the baseline".into(),
            });
        }
        tables.push(SplitTable {
            title: format!(
                "Step {} · {}",
                describe::step_path_label(&path),
                describe::step_words(&step, def, names, "")
            ),
            rows,
        });
    }
    Ok(GoalSummary {
        goal: describe::groups_words(groups, names),
        enrolled: thousands(enrolled),
        converted: thousands(converted),
        rate: percent(converted, enrolled).0,
        splits: tables,
    })
}
