use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::domain::values::FieldType;

fn names() -> Names {
    Names {
        properties: vec![(
            "renewal_date".into(),
            "Renewal date".into(),
            FieldType::Date,
            vec![],
        )],
        lists: [(4, "VIP".to_string())].into_iter().collect(),
        workflows: HashMap::from([(9, "Onboarding".to_string())]),
    }
}

fn def() -> Definition {
    serde_json::from_value(json!({ "name": "Renewal reminder",
      "start": { "type": "contact_date_property", "property": "renewal_date" },
      "recur_annually": true,
      "steps": [
        { "type": "date_delay", "when": "before", "amount": 30, "unit": "days", "time_of_day": "09:00" },
        { "type": "send_email", "subject": "Renewal in 30 days", "body": "Hi" },
        { "type": "branch", "condition": [[{ "property": "renewal_date", "operator": "known" }]],
          "yes": [{ "type": "clear_property", "property": "renewal_date" }] } ] }))
    .unwrap()
}

fn say(event: &str, path: Option<&str>, detail: &str) -> String {
    let d = def();
    let n = names();
    let ctx = Ctx {
        def: Some(&d),
        names: &n,
        tz: "Europe/Oslo".parse().unwrap(),
    };
    ctx.sentence(event, path, detail)
}

#[test]
fn scheduled_actions_read_with_their_time_in_the_workflow_zone() {
    assert_eq!(
        say(
            "scheduled",
            Some("1"),
            "send_email due 2026-12-22T09:00:00+01:00"
        ),
        "Send email “Renewal in 30 days” scheduled for Tue 22 Dec 2026 09:00 (Europe/Oslo)"
    );
    assert_eq!(
        say(
            "scheduled",
            Some("1"),
            "send_email due 2026-12-21T09:00:00+01:00 (moved from 2026-12-19T09:00:00+01:00 by the execution window or step order)"
        ),
        "Send email “Renewal in 30 days” scheduled for Mon 21 Dec 2026 09:00 (Europe/Oslo) — moved from Sat 19 Dec 2026 09:00 by the execution window"
    );
    assert_eq!(
        say("scheduled", Some("0"), "date_delay due 2027-01-09T09:00:00+01:00"),
        "Waits until Sat 9 Jan 2027 09:00 (Europe/Oslo) — 30 days before Renewal date — then Send email “Renewal in 30 days”"
    );
}

#[test]
fn every_event_reads_as_a_sentence() {
    let cases = [
        (
            "enrolled",
            None,
            "met the enrollment triggers; anchor 2026-12-29, cycle 2026",
            "Enrolled: met the enrollment triggers · cycle 2026, centred on Tue 29 Dec 2026 (Renewal date)",
        ),
        ("enrolled", None, "annual cycle 2027", "Enrolled: the next yearly cycle (2027)"),
        (
            "enrolled",
            None,
            "enrolled by an action of workflow 9",
            "Enrolled: by an action of workflow “Onboarding”",
        ),
        (
            "enrolled",
            None,
            "enrolled by event “purchase” (id 3, at 2026-01-01T10:00:00+01:00)",
            "Enrolled: when the event “purchase” occurred",
        ),
        (
            "skipped",
            Some("1"),
            "skipped — its date had passed when the contact enrolled (send_email at 2026-12-01T09:00:00+01:00)",
            "Send email “Renewal in 30 days” — skipped: its date had passed when the contact enrolled (it was due Tue 1 Dec 2026 09:00 (Europe/Oslo))",
        ),
        (
            "skipped",
            Some("1"),
            "skipped — the workflow was off when this send_email fell due",
            "Send email “Renewal in 30 days” — skipped: the workflow was off when it fell due",
        ),
        (
            "skipped",
            Some("1"),
            "skipped — overdue by 3 days (due 2026-12-01T09:00:00+01:00), past the catch-up limit of 24 h",
            "Send email “Renewal in 30 days” — skipped: overdue by 3 days when the worker came back, past the catch-up limit",
        ),
        (
            "action_executed",
            Some("2"),
            "if/then branch: took the yes path",
            "If Renewal date is known: took the Yes path",
        ),
        (
            "action_executed",
            Some("1"),
            "email “Hi” to a@example.com kept in the Outbox (no SMTP configured)",
            "Send email “Renewal in 30 days” — done",
        ),
        (
            "action_failed",
            Some("1"),
            "SMTP delivery failed: refused; attempt 1 of 5, next retry at 2026-12-22T09:01:00+01:00",
            "Send email “Renewal in 30 days” — failed: SMTP delivery failed: refused; it is tried again at Tue 22 Dec 2026 09:01",
        ),
        (
            "rescheduled",
            Some("1"),
            "date changed to 2027-01-05: send_email now due 2026-12-06T09:00:00+01:00 (was 2026-11-29T08:00:00.000Z)",
            "Send email “Renewal in 30 days” rescheduled to Sun 6 Dec 2026 09:00 (Europe/Oslo) (was Sun 29 Nov 2026 09:00): Renewal date changed to Tue 5 Jan 2027",
        ),
        (
            "unenrolled",
            None,
            "suppressed: the contact is in suppression list 4",
            "Unenrolled: suppressed: the contact is in suppression list “VIP”",
        ),
        ("completed", None, "cycle 2026 complete", "Completed the 2026 cycle: every step has run"),
        (
            "completed",
            None,
            "every step's date had passed when the contact enrolled",
            "Completed: every step's date had passed when the contact enrolled",
        ),
    ];
    for (event, path, detail, want) in cases {
        assert_eq!(say(event, path, detail), want, "{event} {detail}");
    }
}

#[test]
fn a_step_of_a_deleted_revision_is_named_by_its_number() {
    let n = names();
    let ctx = Ctx {
        def: None,
        names: &n,
        tz: "UTC".parse().unwrap(),
    };
    assert_eq!(
        ctx.sentence(
            "scheduled",
            Some("3/yes/0"),
            "send_email due 2026-12-22T09:00:00Z"
        ),
        "Step 4 › yes › 1 scheduled for Tue 22 Dec 2026 09:00 (UTC)"
    );
}

#[test]
fn skip_reasons_follow_the_engine_words() {
    use crate::engine::enroll::SKIPPED_PAST_AT_ENROLLMENT;
    assert_eq!(
        SkipReason::of(SKIPPED_PAST_AT_ENROLLMENT),
        SkipReason::DatePassed
    );
    assert_eq!(
        SkipReason::of("skipped — its re-planned date had already passed (x at y)"),
        SkipReason::Replanned
    );
    assert_eq!(
        SkipReason::of("contact_created ignored: …"),
        SkipReason::Other
    );
}

#[test]
fn instants_are_found_in_text() {
    let found = instants("due 2026-12-22T09:00:00+01:00 (was 2026-11-29T08:00:00.000Z).");
    assert_eq!(found.len(), 2);
    assert_eq!(
        crate::clock::fmt_instant(found[0]),
        "2026-12-22T08:00:00.000Z"
    );
    assert!(instants("no time 2026-12-22 here").is_empty());
}

#[test]
fn goals_waits_splits_and_pacing_read_as_sentences() {
    let d: Definition = serde_json::from_value(json!({ "name": "Nudges",
      "start": { "type": "blank" },
      "steps": [
        { "type": "wait_until", "event": "paid", "timeout": { "amount": 3, "unit": "days" } },
        { "type": "random_split", "paths": [{ "name": "A", "percent": 90 }], "holdout_percent": 10 },
        { "type": "send_email", "subject": "Renew now", "body": "Hi" } ] }))
    .unwrap();
    let n = names();
    let ctx = Ctx {
        def: Some(&d),
        names: &n,
        tz: "Europe/Oslo".parse().unwrap(),
    };
    let waiting = ctx.sentence(
        "action_executed",
        Some("0"),
        "wait until: waiting for the event “paid”, at most until 2026-12-22T09:00:00+01:00",
    );
    assert!(
        waiting.ends_with(
            ": waiting for the event “paid”, at most until Tue 22 Dec 2026 09:00 (Europe/Oslo)"
        ),
        "{waiting}"
    );
    let met = ctx.sentence(
        "action_executed",
        Some("0"),
        "wait until: the event “paid” happened; took the met path",
    );
    assert!(
        met.ends_with(": met (the event “paid” happened) — took the Met path"),
        "{met}"
    );
    let out = ctx.sentence(
        "action_executed",
        Some("0"),
        "wait until: the wait timed out; took the timed-out path",
    );
    assert!(
        out.ends_with(": timed out — took the Timed out path"),
        "{out}"
    );
    let split = ctx.sentence("action_executed", Some("1"), "random split: took path “A”");
    assert!(split.ends_with(": took path “A”"), "{split}");
    let hold = ctx.sentence(
        "action_executed",
        Some("1"),
        "random split: holdout (gets nothing)",
    );
    assert!(hold.contains("in the holdout"), "{hold}");
    assert_eq!(
        ctx.sentence(
            "completed",
            Some("2"),
            "goal met: the contact meets the workflow's goal and leaves it"
        ),
        "Goal met: the contact converted and left the workflow"
    );
    let deferred = ctx.sentence(
        "rescheduled",
        Some("2"),
        "email deferred by pacing (3 emails in the last 7 days (at most 3)); now due 2026-12-23T08:00:00+01:00",
    );
    assert_eq!(
        deferred,
        "Send email “Renew now” deferred by pacing until Wed 23 Dec 2026 08:00 (Europe/Oslo): 3 emails in the last 7 days (at most 3)"
    );
}
