//! Email pacing (issue 17): a cap on emails per contact over a rolling window of days, across
//! every workflow, and quiet hours in the contact's own time zone.
//!
//! The rules, as the worker applies them to a `send_email` step that falls due at `now`:
//! * **Cap**: with `max_emails` N and `per_days` D, an email may go when fewer than N emails
//!   went to this contact in the D days before it. Otherwise it waits until the oldest of
//!   those ages out (that email's time + D days), so the Nth-most-recent email is exactly D
//!   days old.
//! * **Quiet hours** (`start`–`end`, local, `start` after `end` spans midnight): an email due
//!   inside them waits until they end, in the contact's `timezone` property (else the
//!   workflow's zone). A spring-forward gap resolves as every local time does (DESIGN §2).
//! * Both apply: the cap first, then the quiet hours at the capped time (later never adds an
//!   email to the window).
//!
//! Deferred emails are never dropped; the history says why and until when. The effective
//! pacing is the workflow's (`settings.pacing`) when it has one, else the account's.
//! Pure: the sent times and `now` are parameters.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::definition::{Pacing, QuietHours};
use super::schedule::{parse_time_of_day, resolve_local};

/// The largest window of the cap, in days.
pub const MAX_PER_DAYS: u32 = 365;

/// Problems with a pacing setting: `(field under settings.pacing, message)`.
pub fn check(p: &Pacing) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match (p.max_emails, p.per_days) {
        (Some(0), _) => out.push(("max_emails".into(), "At least 1 email.".into())),
        (Some(_), None) => out.push((
            "per_days".into(),
            "Say over how many days the emails are counted.".into(),
        )),
        (None, Some(_)) => out.push((
            "max_emails".into(),
            "Say how many emails a contact may get in that time.".into(),
        )),
        _ => {}
    }
    if let Some(d) = p.per_days {
        if d == 0 || d > MAX_PER_DAYS {
            out.push(("per_days".into(), format!("From 1 to {MAX_PER_DAYS} days.")));
        }
    }
    if let Some(q) = &p.quiet_hours {
        let start = parse_time_of_day(&q.start);
        let end = parse_time_of_day(&q.end);
        if start.is_none() {
            out.push((
                "quiet_hours.start".into(),
                "A time HH:MM, e.g. 21:00.".into(),
            ));
        }
        if end.is_none() {
            out.push(("quiet_hours.end".into(), "A time HH:MM, e.g. 08:00.".into()));
        }
        if start.is_some() && start == end {
            out.push((
                "quiet_hours.end".into(),
                "Quiet hours must end at another time than they start.".into(),
            ));
        }
    }
    out
}

/// Whether the setting limits anything.
pub fn is_active(p: &Pacing) -> bool {
    p.max_emails.is_some() && p.per_days.is_some() || p.quiet_hours.is_some()
}

/// Why and until when an email due at `now` must wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Deferral {
    pub until: DateTime<Utc>,
    /// "3 emails in the last 7 days (at most 3)", "quiet hours 21:00–08:00 (Europe/Oslo)".
    pub why: String,
}

/// When an email to a contact may go, if not at `now`: `sent` are the times of the emails
/// that went to this contact (any order; older ones are ignored), `tz` the contact's zone.
pub fn defer(p: &Pacing, sent: &[DateTime<Utc>], tz: Tz, now: DateTime<Utc>) -> Option<Deferral> {
    let mut at = now;
    let mut why = Vec::new();
    if let (Some(max), Some(days)) = (p.max_emails, p.per_days) {
        let window = Duration::days(i64::from(days));
        let mut recent: Vec<DateTime<Utc>> = sent
            .iter()
            .copied()
            .filter(|t| *t > now - window && *t <= now)
            .collect();
        recent.sort();
        let max = max.max(1) as usize;
        if recent.len() >= max {
            // Fewer than `max` remain once this one ages out.
            let frees = recent[recent.len() - max] + window;
            if frees > at {
                at = frees;
                why.push(format!(
                    "{} in the last {} (at most {max})",
                    count_words(recent.len(), "email", "emails"),
                    count_words(days as usize, "day", "days"),
                ));
            }
        }
    }
    if let Some(q) = &p.quiet_hours {
        if let Some(end) = quiet_end(q, tz, at) {
            at = end;
            why.push(format!("quiet hours {}–{} ({})", q.start, q.end, tz.name()));
        }
    }
    (at > now).then(|| Deferral {
        until: at,
        why: why.join("; "),
    })
}

fn count_words(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The end of the quiet hours `t` falls in (local `tz`), or `None` outside them.
fn quiet_end(q: &QuietHours, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (start, end) = (parse_time_of_day(&q.start)?, parse_time_of_day(&q.end)?);
    let local = t.with_timezone(&tz);
    let time = local.time();
    let date = local.date_naive();
    let inside = |x: NaiveTime| {
        if start < end {
            start <= x && x < end
        } else {
            x >= start || x < end
        }
    };
    if !inside(time) {
        return None;
    }
    // The end is today when it is still ahead on this local day, else tomorrow.
    let end_date = if time < end { date } else { date.succ_opt()? };
    let end_at = resolve_local(tz, end_date.and_time(end));
    Some(end_at.max(t))
}

/// A fixed instant in a zone, for tests and callers that build local times.
pub fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> Option<DateTime<Utc>> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oslo() -> Tz {
        "Europe/Oslo".parse().expect("zone")
    }

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        local(oslo(), 2026, 12, d, h, m).expect("time")
    }

    fn pacing(max: Option<u32>, days: Option<u32>, quiet: Option<(&str, &str)>) -> Pacing {
        Pacing {
            max_emails: max,
            per_days: days,
            quiet_hours: quiet.map(|(s, e)| QuietHours {
                start: s.into(),
                end: e.into(),
            }),
        }
    }

    #[test]
    fn the_cap_waits_for_the_oldest_email_in_the_window_to_age_out() {
        let p = pacing(Some(2), Some(7), None);
        // Emails on 1 and 3 December; the third, due on 5 December, waits until 8 December.
        let sent = [at(1, 10, 0), at(3, 12, 0)];
        let d = defer(&p, &sent, oslo(), at(5, 9, 0)).expect("deferred");
        assert_eq!(d.until, at(8, 10, 0));
        assert_eq!(d.why, "2 emails in the last 7 days (at most 2)");
        // Under the cap, or the old one already aged out: no wait.
        assert_eq!(defer(&p, &sent[1..], oslo(), at(5, 9, 0)), None);
        assert_eq!(defer(&p, &sent, oslo(), at(8, 10, 0)), None);
        // Emails "sent" after `now` (another worker's, clock skew) do not count.
        assert_eq!(
            defer(&p, &[at(6, 1, 0), at(7, 1, 0)], oslo(), at(5, 9, 0)),
            None
        );
    }

    #[test]
    fn quiet_hours_span_midnight_in_the_contacts_zone() {
        let p = pacing(None, None, Some(("21:00", "08:00")));
        let cases = [
            (at(5, 22, 30), Some(at(6, 8, 0))),
            (at(6, 2, 0), Some(at(6, 8, 0))),
            (at(6, 8, 0), None),
            (at(6, 20, 59), None),
            (at(6, 21, 0), Some(at(7, 8, 0))),
        ];
        for (now, want) in cases {
            assert_eq!(defer(&p, &[], oslo(), now).map(|d| d.until), want, "{now}");
        }
        let day = pacing(None, None, Some(("12:00", "13:00")));
        assert_eq!(
            defer(&day, &[], oslo(), at(6, 12, 30)).map(|d| d.until),
            Some(at(6, 13, 0))
        );
        // The same instant is not quiet in a zone where it is morning.
        let ny: Tz = "America/New_York".parse().expect("zone");
        assert_eq!(defer(&p, &[], ny, at(5, 22, 30)), None);
    }

    #[test]
    fn the_cap_then_quiet_hours_at_the_capped_time() {
        let p = pacing(Some(1), Some(1), Some(("21:00", "08:00")));
        let d = defer(&p, &[at(5, 22, 0)], oslo(), at(6, 7, 0)).expect("deferred");
        // The cap frees at 22:00 on the 6th, inside the quiet hours: 08:00 on the 7th.
        assert_eq!(d.until, at(7, 8, 0));
        assert!(d.why.contains("1 email in the last 1 day") && d.why.contains("quiet hours"));
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let fields = |p: Pacing| -> Vec<String> { check(&p).into_iter().map(|(f, _)| f).collect() };
        assert!(fields(pacing(Some(3), Some(7), Some(("21:00", "08:00")))).is_empty());
        assert_eq!(fields(pacing(Some(3), None, None)), ["per_days"]);
        assert_eq!(fields(pacing(None, Some(7), None)), ["max_emails"]);
        assert_eq!(fields(pacing(Some(0), Some(7), None)), ["max_emails"]);
        assert_eq!(fields(pacing(Some(1), Some(400), None)), ["per_days"]);
        assert_eq!(
            fields(pacing(None, None, Some(("9pm", "08:00")))),
            ["quiet_hours.start"]
        );
        assert_eq!(
            fields(pacing(None, None, Some(("08:00", "08:00")))),
            ["quiet_hours.end"]
        );
        assert!(!is_active(&pacing(None, None, None)));
    }
}
