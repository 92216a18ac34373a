//! The due times the walk expects, computed here from DESIGN §2 (independently of the app's
//! engine): a recurring contact-date workflow, date delays N days after the anchor at a time of
//! day, actions moved into a Monday–Friday window.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// The execution window of the walk: Monday–Friday, `start`–`end` local time.
pub struct Window {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Window {
    fn allowed(d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// DESIGN §2: on an allowed day before the window opens → that day's start; otherwise the
    /// next allowed day, at the same time of day if that is inside the window, else its start.
    pub fn apply(&self, t: NaiveDateTime) -> NaiveDateTime {
        let (d, time) = (t.date(), t.time());
        let inside = |x: NaiveTime| x >= self.start && x < self.end;
        if Self::allowed(d) && inside(time) {
            return t;
        }
        if Self::allowed(d) && time < self.start {
            return d.and_time(self.start);
        }
        let mut next = d + Duration::days(1);
        while !Self::allowed(next) {
            next += Duration::days(1);
        }
        next.and_time(if inside(time) { time } else { self.start })
    }
}

/// One date delay of the walk: `days` after the anchor at `at` (local).
#[derive(Clone, Copy)]
pub struct DelayAfter {
    pub days: i64,
    pub at: NaiveTime,
}

/// What a contact enrolled at `now` gets.
#[derive(Debug)]
pub struct Plan {
    pub cycle_year: i32,
    /// When the first delay ends (delays are not moved by the window).
    pub first_delay_ends: DateTime<Tz>,
    /// When the first action (right after the first delay) runs, after the window.
    pub first_action: DateTime<Tz>,
    /// When the action after the second delay runs, after the window.
    pub second_action: DateTime<Tz>,
}

fn local(tz: Tz, t: NaiveDateTime) -> DateTime<Tz> {
    tz.from_local_datetime(&t)
        .earliest()
        .expect("a local time that exists")
}

/// Repeat annually: the anchor's month and day in the year of enrollment (in the workflow's
/// zone); if the first action of that cycle has passed, next year's cycle.
pub fn plan(
    anchor: NaiveDate,
    now: DateTime<Utc>,
    tz: Tz,
    first: DelayAfter,
    second: DelayAfter,
    window: &Window,
) -> Plan {
    let this_year = now.with_timezone(&tz).year();
    for year in [this_year, this_year + 1] {
        let day = NaiveDate::from_ymd_opt(year, anchor.month(), anchor.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
            .expect("a day");
        let delay1 = (day + Duration::days(first.days)).and_time(first.at);
        let action1 = window.apply(delay1);
        if local(tz, action1).with_timezone(&Utc) <= now {
            continue;
        }
        let delay2 = (day + Duration::days(second.days)).and_time(second.at);
        // Order is kept: never before the earlier action.
        let action2 = window.apply(delay2.max(action1));
        return Plan {
            cycle_year: year,
            first_delay_ends: local(tz, delay1),
            first_action: local(tz, action1),
            second_action: local(tz, action2),
        };
    }
    unreachable!("next year's first action is always ahead")
}

/// `2027-11-16 09:00`, the start of how the Test page shows a time.
pub fn page_time(t: &DateTime<Tz>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `Tue 16 Nov 2027 09:00`, as the history's sentences give a time.
pub fn words(t: &DateTime<Tz>) -> String {
    t.format("%a %-d %b %Y %H:%M").to_string()
}

/// `2027-11-16T09:00:00+01:00`, as history details give a due time.
pub fn rfc3339_local(t: &DateTime<Tz>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[test]
fn the_design_example_and_the_window() {
    let oslo: Tz = "Europe/Oslo".parse().unwrap();
    let w = Window {
        start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
    };
    let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    // DESIGN: anchor 2020-01-20, 300 days after, enrolled in 2021 → 2021-11-16.
    let now = Utc.with_ymd_and_hms(2021, 3, 1, 12, 0, 0).unwrap();
    let anchor = NaiveDate::from_ymd_opt(2020, 1, 20).unwrap();
    let d = DelayAfter {
        days: 300,
        at: nine,
    };
    let p = plan(anchor, now, oslo, d, d, &w);
    assert_eq!(p.cycle_year, 2021);
    assert_eq!(page_time(&p.first_action), "2021-11-16 09:00");
    assert_eq!(rfc3339_local(&p.first_action), "2021-11-16T09:00:00+01:00");
    // Enrolled after that day → next year's cycle.
    let late = Utc.with_ymd_and_hms(2021, 12, 1, 12, 0, 0).unwrap();
    assert_eq!(plan(anchor, late, oslo, d, d, &w).cycle_year, 2022);
    // A Saturday moves to Monday at the same time.
    let sat = NaiveDate::from_ymd_opt(2027, 1, 9).unwrap().and_time(nine);
    assert_eq!(w.apply(sat).to_string(), "2027-01-11 09:00:00");
    // Before the window opens on a weekday: that day's start; after it closes: next day's.
    let early = NaiveDate::from_ymd_opt(2027, 1, 11)
        .unwrap()
        .and_hms_opt(7, 0, 0)
        .unwrap();
    assert_eq!(w.apply(early).to_string(), "2027-01-11 09:00:00");
    let evening = NaiveDate::from_ymd_opt(2027, 1, 15)
        .unwrap()
        .and_hms_opt(18, 0, 0)
        .unwrap();
    assert_eq!(w.apply(evening).to_string(), "2027-01-18 09:00:00");
}
