//! Issue 14, item 2: the workflow's Performance page: enrollments, per-step counts (waiting,
//! executed, skipped by reason, failed), the last 30 days' chart and the next 30 days'
//! calendar, all server-rendered.

use chrono::Duration;

use super::history_sentences::{
    person, renewal_property, renewal_reminder, today_in_oslo, wait_for_event,
};
use crate::helpers::{attr, attrs, text, texts, TestApp};

/// The per-step table: (number, step text, waiting, executed, skipped, failed).
fn step_table(html: &str) -> Vec<Vec<String>> {
    let doc = scraper::Html::parse_document(html);
    let rows = scraper::Selector::parse("#step-stats tbody tr:not(.heading)").unwrap();
    let cells = scraper::Selector::parse("td").unwrap();
    doc.select(&rows)
        .map(|r| {
            r.select(&cells)
                .map(|c| {
                    c.text()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn performance_counts_steps_and_draws_the_chart_and_calendar() {
    let (app, token) = TestApp::ready().await;
    renewal_property(&app, &token).await;
    let today = today_in_oslo();
    // Anna: the delay ends in 30 days (after the calendar's 30 days); Carl: in 5 days;
    // Ben: every step's date has passed (both skipped at enrollment, completed at once).
    person(&app, &token, "Anna", "Berg", today + Duration::days(60)).await;
    person(&app, &token, "Carl", "Dahl", today + Duration::days(35)).await;
    person(&app, &token, "Ben", "Lund", today + Duration::days(10)).await;
    let wf = app.publish_workflow(&token, renewal_reminder(), true).await;

    let page = format!("/workflows/{wf}/performance");
    let html = app.get_html(&page).await;
    assert_eq!(
        attr(&html, "nav.subnav a[aria-current=page]", "href"),
        Some(page.clone())
    );
    assert_eq!(text(&html, "#stat-active").as_deref(), Some("2"));
    assert_eq!(text(&html, "#stat-completed").as_deref(), Some("1"));
    assert_eq!(text(&html, "#stat-all").as_deref(), Some("3"));
    assert_eq!(text(&html, "#stat-range").as_deref(), Some("3"));

    let rows = step_table(&html);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0][1].contains("30 days before Renewal date"),
        "{rows:?}"
    );
    assert!(
        rows[0][1].contains("1 skipped: date had passed at enrollment"),
        "the skip reason is named: {rows:?}"
    );
    assert_eq!(&rows[0][2..], ["2", "—", "1", "0"], "{rows:?}");
    assert!(rows[1][1].contains("Send email “Renewal in 30 days”"));
    assert_eq!(&rows[1][2..], ["0", "0", "1", "0"], "{rows:?}");

    // The chart: 30 days, today's bar has the three enrollments.
    assert_eq!(
        text(&html, "#chart-summary").as_deref(),
        Some("3 enrolled and 0 actions executed in the last 30 days.")
    );
    assert_eq!(attrs(&html, "#activity-chart rect", "class").len(), 60);
    let today_title = format!("{}: 3 enrolled", today.format("%a %-d %b %Y"));
    assert!(
        texts(&html, "#activity-chart rect title").contains(&today_title),
        "{today_title}"
    );
    let numbers = texts(&html, "#chart-numbers tbody tr");
    assert_eq!(numbers.len(), 30);
    assert_eq!(
        numbers.last().map(String::as_str),
        Some(format!("{} 3 0", today.format("%a %-d %b %Y")).as_str())
    );

    // The calendar: Carl's email in five days; Anna's falls after the 30 days shown.
    assert_eq!(
        text(&html, "#calendar-summary").as_deref(),
        Some("1 scheduled step falls due in the next 30 days.")
    );
    assert_eq!(texts(&html, "#calendar .cal-count"), ["1"]);
    let agenda = texts(&html, "#agenda > li");
    assert_eq!(
        agenda,
        [format!(
            "{} 1 × Send email “Renewal in 30 days”",
            (today + Duration::days(5)).format("%a %-d %b %Y")
        )]
    );

    // The editor's cards carry the same counts.
    let editor = app.get_html(&format!("/workflows/{wf}")).await;
    assert_eq!(
        text(&editor, "#card-step-0 .card-counts").as_deref(),
        Some("2 waiting")
    );
    assert!(text(&editor, "#card-step-1 .card-counts").is_none());

    // The emails run: executed on the email's row and in today's bar.
    app.make_all_due_at(&perennial::clock::fmt_instant(
        chrono::Utc::now() - Duration::minutes(1),
    ));
    wait_for_event(&app, &token, wf, "action_executed", 2).await;
    let html = app.get_html(&page).await;
    let rows = step_table(&html);
    assert_eq!(&rows[1][2..], ["0", "2", "1", "0"], "{rows:?}");
    assert_eq!(text(&html, "#stat-completed").as_deref(), Some("3"));
    assert_eq!(
        text(&html, "#chart-summary").as_deref(),
        Some("3 enrolled and 2 actions executed in the last 30 days.")
    );
    assert!(html.contains("Nothing is scheduled in the next 30 days."));
    let editor = app.get_html(&format!("/workflows/{wf}")).await;
    assert_eq!(
        text(&editor, "#card-step-1 .card-counts").as_deref(),
        Some("2 executed in 30 days")
    );

    // Periods: all time counts the same; an unknown period is the default (30 days).
    let html = app.get_html(&format!("{page}?range=all")).await;
    assert_eq!(&step_table(&html)[1][2..], ["0", "2", "1", "0"]);
    assert_eq!(
        attr(&html, "#f-range option[selected]", "value").as_deref(),
        Some("all")
    );
    let html = app.get_html(&format!("{page}?range=nonsense")).await;
    assert_eq!(
        attr(&html, "#f-range option[selected]", "value").as_deref(),
        Some("30")
    );
    // Readable without JavaScript: no script on the page but the shared enhancement file.
    assert!(!html.contains("<script>"));
}
