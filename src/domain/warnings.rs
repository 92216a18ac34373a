//! Review warnings (issue 13): things that are allowed but that the user most likely did not
//! mean, said before turning the workflow on instead of a silent "No problems found". Pure:
//! the caller passes `now` and the zones.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

use super::definition::{DateUnit, Definition, Start, Step, When};
use super::schedule::{self, StepStatus, Zones};
use super::values::parse_iso_date;

/// One warning: the card it is about (for the link) and the sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub card: String,
    pub message: String,
}

/// The warnings of a definition for a review made at `now`.
pub fn warnings(def: &Definition, zones: &Zones, now: DateTime<Utc>) -> Vec<Warning> {
    let mut out = Vec::new();
    all_dates_passed(def, zones, now, &mut out);
    delays_out_of_order(def, &mut out);
    always_outside_window(def, &mut out);
    out
}

/// A non-recurring Specific date workflow whose every step's time has passed: whoever enrolls
/// gets nothing.
fn all_dates_passed(def: &Definition, zones: &Zones, now: DateTime<Utc>, out: &mut Vec<Warning>) {
    let Start::SpecificDate { date } = &def.start else {
        return;
    };
    if def.recur_annually || def.steps.is_empty() {
        return;
    }
    let Some(anchor) = parse_iso_date(date) else {
        return;
    };
    let Ok(plan) = schedule::plan_enrollment(def, Some(anchor), zones, now) else {
        return;
    };
    if plan
        .steps
        .iter()
        .all(|s| s.status == StepStatus::SkippedPast)
    {
        out.push(Warning {
            card: "start".into(),
            message: format!(
                "Every step's date has already passed ({date} is in the past and the workflow does not repeat annually): nobody will get any action. Choose a later date or turn on Repeat annually."
            ),
        });
    }
}

/// A date delay's place relative to the anchor, in minutes (days × 1440 + time of day).
fn offset_minutes(when: When, amount: Option<u32>, unit: Option<DateUnit>, time: &str) -> i64 {
    let days = i64::from(amount.unwrap_or(0))
        * match unit {
            Some(DateUnit::Weeks) => 7,
            _ => 1,
        };
    let signed = match when {
        When::On => 0,
        When::Before => -days,
        When::After => days,
    };
    let minutes = schedule::parse_time_of_day(time)
        .map(|t| i64::from(t.hour() * 60 + t.minute()))
        .unwrap_or(9 * 60);
    signed * 1440 + minutes
}

/// A later date delay that falls before an earlier one (both relative to the anchor): it ends
/// right after the earlier one instead, never before (DESIGN §2, order is never broken).
fn delays_out_of_order(def: &Definition, out: &mut Vec<Warning>) {
    let mut latest: Option<(usize, i64)> = None;
    for (i, step) in def.steps.iter().enumerate() {
        let Step::DateDelay {
            when,
            amount,
            unit,
            time_of_day,
            ..
        } = step
        else {
            continue;
        };
        let here = offset_minutes(*when, *amount, *unit, time_of_day.as_deref().unwrap_or(""));
        match latest {
            Some((j, before)) if here < before => out.push(Warning {
                card: format!("step-{i}"),
                message: format!(
                    "Step {} waits until a time before step {}'s: it cannot go back in time, so the actions after it run right after step {} instead.",
                    i + 1,
                    j + 1,
                    j + 1
                ),
            }),
            _ => latest = Some((i, here)),
        }
    }
}

/// A date delay whose time of day is outside the execution window: the actions after it are
/// moved every time, for every contact.
fn always_outside_window(def: &Definition, out: &mut Vec<Warning>) {
    let Some(w) = &def.settings.execution_window else {
        return;
    };
    let (Some(start), Some(end)) = (
        schedule::parse_time_of_day(&w.start),
        schedule::parse_time_of_day(&w.end),
    ) else {
        return;
    };
    for (i, step) in def.steps.iter().enumerate() {
        let Step::DateDelay { time_of_day, .. } = step else {
            continue;
        };
        let time = time_of_day
            .as_deref()
            .and_then(schedule::parse_time_of_day)
            .unwrap_or_else(|| NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default());
        let followed_by_action = def.steps.get(i + 1).is_some_and(|s| !s.is_delay());
        if followed_by_action && (time < start || time >= end) {
            out.push(Warning {
                card: format!("step-{i}"),
                message: format!(
                    "Step {} ends at {} every time, outside the execution window ({}–{}): the action after it always waits for the window.",
                    i + 1,
                    time.format("%H:%M"),
                    w.start,
                    w.end
                ),
            });
        }
    }
}

/// Contacts who meet the criteria now and would skip steps if enrolled now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipping {
    /// Would skip at least one action because its time has passed.
    pub some: i64,
    /// Of those, would get no action at all (every action's time has passed).
    pub all: i64,
}

/// How many contacts, given as (anchor date, how many contacts have it), would skip actions
/// when enrolled at `now`: the plan a real enrollment makes (annual cycle rule included), in
/// the workflow's zone. Delays do not count (they only move time); when every step is a delay,
/// the delays do.
pub fn skipping(
    def: &Definition,
    zones: &Zones,
    now: DateTime<Utc>,
    dates: &[(NaiveDate, i64)],
) -> Skipping {
    let counts = |i: usize| {
        def.steps
            .get(i)
            .is_some_and(|s| !s.is_delay() || def.steps.iter().all(Step::is_delay))
    };
    // Repeating annually, only the month and day matter (the cycle is this year's): a century
    // of birthdays is planned 366 times, not 36,500.
    let collapsed: Vec<(NaiveDate, i64)>;
    let dates = if def.recur_annually {
        let mut by_day: std::collections::BTreeMap<(u32, u32), (NaiveDate, i64)> =
            std::collections::BTreeMap::new();
        for (d, n) in dates {
            by_day.entry((d.month(), d.day())).or_insert((*d, 0)).1 += n;
        }
        collapsed = by_day.into_values().collect();
        &collapsed[..]
    } else {
        dates
    };
    let mut out = Skipping::default();
    for (anchor, n) in dates {
        let Ok(plan) = schedule::plan_enrollment(def, Some(*anchor), zones, now) else {
            continue;
        };
        let counted: Vec<StepStatus> = plan
            .steps
            .iter()
            .filter(|s| counts(s.index))
            .map(|s| s.status)
            .collect();
        if counted.contains(&StepStatus::SkippedPast) {
            out.some += n;
            if counted.iter().all(|s| *s == StepStatus::SkippedPast) {
                out.all += n;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::UTC;
    use serde_json::json;

    fn def(v: serde_json::Value) -> Definition {
        serde_json::from_value(v).expect("definition")
    }

    fn zones() -> Zones {
        Zones {
            workflow: UTC,
            contact: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    fn specific(date: &str, recur: bool, window: serde_json::Value) -> Definition {
        def(
            json!({ "name": "Launch", "start": {"type": "specific_date", "date": date},
            "recur_annually": recur,
            "steps": [
                {"type": "date_delay", "when": "before", "amount": 7, "unit": "days", "time_of_day": "09:00"},
                {"type": "create_task", "title": "Prepare"},
                {"type": "date_delay", "when": "on", "time_of_day": "08:00"},
                {"type": "create_task", "title": "Launch"} ],
            "settings": { "execution_window": window } }),
        )
    }

    #[test]
    fn table() {
        let now = at("2026-12-04T10:00:00Z");
        let cases: Vec<(&str, Definition, Vec<&str>)> = vec![
            (
                "future date: nothing",
                specific("2027-03-01", false, json!(null)),
                vec![],
            ),
            (
                "past date, not recurring: nobody gets anything",
                specific("2026-06-01", false, json!(null)),
                vec!["start"],
            ),
            (
                "past date, recurring: fine",
                specific("2026-06-01", true, json!(null)),
                vec![],
            ),
            (
                "one step still ahead: no warning",
                specific("2026-12-05", false, json!(null)),
                vec![],
            ),
            (
                "on-the-day step at 08:00 outside a 09:00–17:00 window",
                specific(
                    "2027-03-01",
                    false,
                    json!({"days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00"}),
                ),
                vec!["step-2"],
            ),
            (
                "a later delay before an earlier one",
                def(
                    json!({ "name": "R", "start": {"type": "contact_date_property", "property": "renewal_date"},
                    "steps": [
                        {"type": "date_delay", "when": "before", "amount": 1, "unit": "weeks", "time_of_day": "09:00"},
                        {"type": "create_task", "title": "A"},
                        {"type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00"},
                        {"type": "create_task", "title": "B"} ] }),
                ),
                vec!["step-2"],
            ),
        ];
        for (name, d, expected) in cases {
            let got: Vec<String> = warnings(&d, &zones(), now)
                .into_iter()
                .map(|w| w.card)
                .collect();
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn skipping_counts_contacts_by_their_dates() {
        // Renewal reminders 30 and 7 days before, at 09:00; today is 4 Dec 2026 10:00 UTC.
        let once = def(
            json!({ "name": "R", "start": {"type": "contact_date_property", "property": "renewal_date"},
            "steps": [
                {"type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00"},
                {"type": "create_task", "title": "30 days"},
                {"type": "date_delay", "when": "before", "amount": 7, "unit": "days", "time_of_day": "09:00"},
                {"type": "create_task", "title": "7 days"} ] }),
        );
        let mut annual = once.clone();
        annual.recur_annually = true;
        let now = at("2026-12-04T10:00:00Z");
        let d = |s: &str| parse_iso_date(s).expect("date");
        let dates = [
            (d("2027-03-01"), 5), // both ahead
            (d("2026-12-29"), 3), // 30 days before passed, 7 days before ahead
            (d("2026-11-01"), 2), // both passed
        ];
        let cases = [
            ("not recurring", &once, Skipping { some: 5, all: 2 }),
            // Annually: 29 Dec keeps this year's cycle (one skipped); 1 Nov moves to next year.
            ("annual", &annual, Skipping { some: 3, all: 0 }),
        ];
        for (name, def, expected) in cases {
            assert_eq!(skipping(def, &zones(), now, &dates), expected, "{name}");
        }
    }
}
