//! The Performance page's pictures, drawn on the server so they read without JavaScript: a bar
//! chart of enrollments and executed actions per day (SVG, with the numbers as a table too)
//! and a calendar of the steps falling due in the next days (an HTML table of weeks).

use chrono::{Datelike, NaiveDate};

/// One day of the chart.
#[derive(Debug, Clone)]
pub struct DayCount {
    pub day: NaiveDate,
    pub enrolled: i64,
    pub actions: i64,
}

/// A bar, in the SVG's own units.
#[derive(Debug, Clone)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// `bar-enrolled` or `bar-actions`.
    pub class: &'static str,
    /// "Tue 22 Dec 2026: 14 enrolled" (the bar's tooltip and accessible name).
    pub title: String,
}

/// A label under the x axis or beside the y axis.
#[derive(Debug, Clone)]
pub struct Tick {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// Grid lines (y of each y tick).
    pub grid: Vec<f64>,
    /// The x where the plot starts and ends, and the baseline's y.
    pub left: f64,
    pub right: f64,
    pub base: f64,
    pub days: Vec<DayCount>,
    pub total_enrolled: i64,
    pub total_actions: i64,
}

/// A "nice" ceiling for the y axis: 1, 2, 5, 10, 20, 50, …
fn nice_max(n: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= n {
                return step * m;
            }
        }
        step *= 10;
    }
}

pub fn chart(days: Vec<DayCount>) -> Chart {
    let (width, height) = (720.0, 220.0);
    let (left, right, top, base) = (40.0, 712.0, 12.0, 190.0);
    let max = days
        .iter()
        .map(|d| d.enrolled.max(d.actions))
        .max()
        .unwrap_or(0)
        .max(1);
    let top_value = nice_max(max);
    let scale = (base - top) / top_value as f64;
    let n = days.len().max(1) as f64;
    let slot = (right - left) / n;
    let bar_w = (slot * 0.38).max(1.0);
    let mut bars = Vec::new();
    let mut x_ticks = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let x0 = left + slot * i as f64 + slot * 0.1;
        let when = d.day.format("%a %-d %b %Y").to_string();
        for (j, (value, class, what)) in [
            (d.enrolled, "bar-enrolled", "enrolled"),
            (d.actions, "bar-actions", "actions executed"),
        ]
        .into_iter()
        .enumerate()
        {
            let h = value as f64 * scale;
            bars.push(Bar {
                x: x0 + bar_w * j as f64,
                y: base - h,
                width: bar_w,
                height: h,
                class,
                title: format!("{when}: {value} {what}"),
            });
        }
        if i % 7 == 0 || i + 1 == days.len() {
            x_ticks.push(Tick {
                x: left + slot * i as f64 + slot / 2.0,
                y: base + 18.0,
                text: d.day.format("%-d %b").to_string(),
            });
        }
    }
    let y_ticks: Vec<Tick> = [0, top_value / 2, top_value]
        .into_iter()
        .filter(|v| *v == 0 || *v * 2 >= top_value)
        .map(|v| Tick {
            x: left - 6.0,
            y: base - v as f64 * scale + 4.0,
            text: crate::web::filters::thousands(v),
        })
        .collect();
    let grid = y_ticks.iter().map(|t| t.y - 4.0).collect();
    Chart {
        width,
        height,
        bars,
        x_ticks,
        y_ticks,
        grid,
        left,
        right,
        base,
        total_enrolled: days.iter().map(|d| d.enrolled).sum(),
        total_actions: days.iter().map(|d| d.actions).sum(),
        days,
    }
}

/// One scheduled line of a calendar day: "14 × Send email “Renewal in 30 days”".
#[derive(Debug, Clone)]
pub struct Due {
    pub count: i64,
    pub what: String,
}

#[derive(Debug, Clone)]
pub struct CalendarDay {
    pub day: NaiveDate,
    /// "22", or "1 Jan" on the first of a month and on the first day shown.
    pub label: String,
    pub long: String,
    pub total: i64,
    pub due: Vec<Due>,
    pub today: bool,
}

/// Weeks (Monday first) of the days from `first`, `None` for the cells outside the range.
pub fn weeks(days: Vec<CalendarDay>) -> Vec<Vec<Option<CalendarDay>>> {
    let mut out: Vec<Vec<Option<CalendarDay>>> = Vec::new();
    let mut week: Vec<Option<CalendarDay>> = Vec::new();
    if let Some(first) = days.first() {
        for _ in 0..first.day.weekday().num_days_from_monday() {
            week.push(None);
        }
    }
    for d in days {
        week.push(Some(d));
        if week.len() == 7 {
            out.push(std::mem::take(&mut week));
        }
    }
    if !week.is_empty() {
        while week.len() < 7 {
            week.push(None);
        }
        out.push(week);
    }
    out
}

pub fn day_label(d: NaiveDate, first: bool) -> String {
    if first || d.day() == 1 {
        d.format("%-d %b").to_string()
    } else {
        d.day().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn bars_scale_to_a_nice_maximum() {
        let days = vec![
            DayCount {
                day: d("2026-12-21"),
                enrolled: 3,
                actions: 0,
            },
            DayCount {
                day: d("2026-12-22"),
                enrolled: 7,
                actions: 10,
            },
        ];
        let c = chart(days);
        assert_eq!(c.bars.len(), 4);
        assert_eq!(c.total_enrolled, 10);
        assert_eq!(c.total_actions, 10);
        // The tallest bar reaches the top of the plot (10 of a nice maximum of 10).
        let tallest = c.bars.iter().map(|b| b.height).fold(0.0, f64::max);
        assert!((tallest - (190.0 - 12.0)).abs() < 1e-6, "{tallest}");
        assert_eq!(c.bars[3].title, "Tue 22 Dec 2026: 10 actions executed");
        assert_eq!(
            c.y_ticks
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>(),
            ["0", "5", "10"]
        );
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(4300), 5000);
    }

    #[test]
    fn calendars_start_their_weeks_on_monday() {
        let days: Vec<CalendarDay> = (0..10)
            .map(|i| {
                let day = d("2026-12-23") + chrono::Duration::days(i);
                CalendarDay {
                    day,
                    label: day_label(day, i == 0),
                    long: String::new(),
                    total: 0,
                    due: vec![],
                    today: i == 0,
                }
            })
            .collect();
        let w = weeks(days);
        assert_eq!(w.len(), 2);
        // 23 Dec 2026 is a Wednesday: two blank cells first.
        assert!(w[0][0].is_none() && w[0][1].is_none());
        assert_eq!(w[0][2].as_ref().map(|c| c.label.as_str()), Some("23 Dec"));
        assert_eq!(w[1][4].as_ref().map(|c| c.label.as_str()), Some("1 Jan"));
        assert!(w[1][5].is_none());
    }
}
