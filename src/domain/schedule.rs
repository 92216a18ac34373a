//! The scheduling core: given a workflow definition, an anchor date, the time zones and the
//! current instant, compute when every step of a cycle is due (DESIGN §2). Pure functions
//! only: no I/O and no clock — `now` is always a parameter, so every rule is unit-tested here.
//!
//! # The model
//!
//! A plan walks the step list once, carrying a *cursor*: the instant the previous step ran
//! (an action) or ended (a delay). Each step's time is derived from the cursor:
//!
//! | step | `due_at` |
//! |---|---|
//! | `date_delay` | its nominal time (anchor ± N calendar days at the time of day), but never before the cursor |
//! | `delay` | cursor + amount |
//! | `delay_until` | the first matching weekday/time strictly after the cursor |
//! | `branch` | the cursor (a branch takes no time and is not moved) |
//! | action | the cursor, then moved into the execution window |
//!
//! Because every step starts from the cursor and the window only moves times forward, times
//! are non-decreasing along the list: order is never broken. An action whose nominal time falls
//! before an earlier action's (moved) run time therefore runs at that same instant, then the
//! window applies. Statuses follow: a step whose `due_at` is strictly before `now` is
//! [`StepStatus::SkippedPast`], anything else (including exactly `now`) is [`StepStatus::Due`],
//! and since times never decrease the skipped steps always form a prefix.
//!
//! `nominal_at` is the same walk without the window and without the "never before the cursor"
//! clamp (a *nominal cursor* chained through nominal times), so "moved from …" can be shown
//! wherever `nominal_at != due_at`.
//!
//! # Decisions where DESIGN §2 is silent
//!
//! - **Nothing before the first step.** With no `prev_run`, a date delay ends at its nominal
//!   time (so a past one is skipped), while a `delay`, `delay_until`, branch or action starts
//!   from `now` (the enrollment instant). A date-centred workflow normally begins with a date
//!   delay, so this only matters for blank workflows.
//! - **`delay` units.** Minutes and hours are elapsed time; days and weeks are calendar days
//!   in the workflow zone keeping the wall-clock time (like date delays), resolved with the
//!   DST rules and never earlier than the cursor.
//! - **`delay_until` with an empty day list** waits for the time of day on any day (the time is
//!   the part the user filled in). Times are in the workflow zone.
//! - **A date delay without an anchor** (only possible in a blank workflow, which validation
//!   rejects) takes no time, like a branch. A blank workflow ignores any anchor passed in and
//!   `recur_annually` (there is no date to recur on).
//! - **Branches at the top level** take no time; the engine plans the chosen path with
//!   [`plan_steps`] on that sub-list, starting from the branch's run time.
//! - **The execution window** is `[start, end)` in the workflow zone; a window whose start is
//!   not before its end, or whose times do not parse, is ignored (validation rejects it, and
//!   [`plan_enrollment`] reports it). A window with no allowed days leaves times unchanged
//!   (bounded search). The search is bounded by `7 × (pause dates + 1) + 1` days, enough to
//!   always find an allowed day if one exists. Pause dates that do not parse are ignored by
//!   [`apply_window`] (reported by [`plan_enrollment`]).
//! - **DST inside the window.** Moving to the window's start or to "the same time" on another
//!   day resolves the local time with [`resolve_local`], but never to an instant before the
//!   original time (an ambiguous local time takes its later occurrence only when the earlier
//!   one would go back in time).
//! - **Repeat annually.** Y is the year of `now` in the workflow zone; the cycle anchor is the
//!   anchor's month/day in Y (Feb-29 rule applied). Y's cycle holds while any of its actions
//!   (top-level steps that are not delays; every step when all are delays) is still to come:
//!   the passed steps are skipped. Only when every action of Y's cycle has passed is the cycle
//!   Y+1; if that cycle still has nothing to come (offsets longer than a year), the following
//!   years are tried, up to [`MAX_RECURRING_LOOKAHEAD_YEARS`]; because offsets are capped at
//!   [`MAX_SPAN_DAYS`] that always finds a cycle when there are steps. An anchor late in the
//!   year whose steps fall early in the next year is still planned in the current year's
//!   cycle, exactly as DESIGN §2 says ("the current year").
//! - **Huge offsets** (date delays and delays) are capped at [`MAX_SPAN_DAYS`] days so date
//!   arithmetic can never overflow; validation is expected to keep amounts far below that.
//! - **Continuing after a step ran.** [`plan_cycle_from`] marks steps relative to `now`; when
//!   the worker plans the continuation right after running a step at `T`, it should pass
//!   `now = T` (or judge the next step's lateness itself with the catch-up rule), otherwise an
//!   action due "right after" the previous one would already count as past.

use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use serde::Serialize;

use super::definition::{
    DateUnit, Definition, ExecutionWindow, Feb29Rule, Settings, Step, TimeUnit, Weekday, When,
    ZoneChoice, DEFAULT_TIME_OF_DAY,
};

/// The largest offset, in days, that a date delay or a delay can span (about 100 years).
/// Larger amounts are capped so calendar arithmetic cannot overflow.
pub const MAX_SPAN_DAYS: i64 = 36_600;

/// How many years past the first candidate cycle a recurring plan may look for a cycle with
/// something due. Exceeds `MAX_SPAN_DAYS` in years, so a cycle is always found.
pub const MAX_RECURRING_LOOKAHEAD_YEARS: i32 = 105;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// The zones a plan needs: the workflow's (see [`workflow_zone`]) and the contact's
/// `timezone` property when it holds a valid IANA name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zones {
    pub workflow: Tz,
    pub contact: Option<Tz>,
}

impl Zones {
    /// The zone a date delay uses: the contact's when asked for and known, else the workflow's.
    pub fn for_choice(&self, choice: Option<ZoneChoice>) -> Tz {
        match choice {
            Some(ZoneChoice::Contact) => self.contact.unwrap_or(self.workflow),
            Some(ZoneChoice::Workflow) | None => self.workflow,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// The step's time is now or in the future.
    Due,
    /// The step's time had passed when planned; the engine skips it (history: "skipped — its
    /// date had passed when the contact enrolled" / when re-planned).
    SkippedPast,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Due => "due",
            StepStatus::SkippedPast => "skipped_past",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStep {
    /// Position in the step list being planned (the top-level index for top-level plans).
    pub index: usize,
    /// [`Step::type_name`].
    pub type_name: &'static str,
    /// A delay: when it ends; an action: when it will run (after the execution window).
    pub due_at: DateTime<Utc>,
    /// Before the execution window and ordering adjustments, for "moved from" display.
    pub nominal_at: DateTime<Utc>,
    pub status: StepStatus,
}

impl PlannedStep {
    /// Whether the window or the ordering rule moved this step.
    pub fn was_moved(&self) -> bool {
        self.due_at != self.nominal_at
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentPlan {
    /// The anchor as it falls in the cycle (after the Feb-29 rule); `None` for blank workflows.
    pub anchor_date: Option<NaiveDate>,
    /// `None` for blank workflows.
    pub cycle_year: Option<i32>,
    /// One per top-level step.
    pub steps: Vec<PlannedStep>,
    /// Index of the first step with status `Due`; `None`: nothing left (non-recurring: the
    /// enrollment completes).
    pub next: Option<usize>,
}

impl EnrollmentPlan {
    /// The first due step, if any.
    pub fn next_step(&self) -> Option<&PlannedStep> {
        self.next
            .and_then(|i| self.steps.iter().find(|s| s.index == i))
    }
}

/// Everything a plan of one step list needs besides the steps themselves.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    pub settings: &'a Settings,
    /// The anchor as it falls in this cycle ([`cycle_anchor`]); `None` for blank workflows.
    pub anchor: Option<NaiveDate>,
    pub zones: Zones,
}

/// Why a plan could not be made. Validation normally rejects these before a definition is
/// saved; the scheduler re-checks what it parses so a bad value never silently shifts a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    /// A date-centred workflow was planned without an anchor date (empty property value).
    MissingAnchor,
    /// A value the scheduler parses is malformed; `field` is a path like
    /// `steps[2].time_of_day` or `settings.execution_window.end`.
    Invalid { field: String, message: String },
}

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScheduleError::MissingAnchor => {
                write!(f, "a date-centred workflow needs an anchor date")
            }
            ScheduleError::Invalid { field, message } => write!(f, "{field}: {message}"),
        }
    }
}

impl std::error::Error for ScheduleError {}

fn invalid(field: String, message: &str) -> ScheduleError {
    ScheduleError::Invalid {
        field,
        message: message.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers: parsing, zones, anchors, local time
// ---------------------------------------------------------------------------------------------

/// Parses a strict 24-hour `"HH:MM"` (exactly two digits each; `"9:00"` and `"24:00"` fail).
pub fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    // `HH:MM`, or `HH:MM:SS` for precise times (tests and integrations).
    if !(b.len() == 5 || (b.len() == 8 && b[5] == b':')) || b[2] != b':' {
        return None;
    }
    let digit = |i: usize| b[i].is_ascii_digit().then(|| u32::from(b[i] - b'0'));
    let hour = digit(0)? * 10 + digit(1)?;
    let minute = digit(3)? * 10 + digit(4)?;
    let second = if b.len() == 8 {
        digit(6)? * 10 + digit(7)?
    } else {
        0
    };
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// Parses an IANA zone name such as a contact's `timezone` property value.
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// The workflow's zone: `settings.time_zone` when it names a valid zone, else the account's.
pub fn workflow_zone(def: &Definition, account_tz: Tz) -> Tz {
    def.settings
        .time_zone
        .as_deref()
        .and_then(parse_zone)
        .unwrap_or(account_tz)
}

/// The anchor's month/day in `year`, applying the Feb-29 rule (29 Feb in a non-leap year
/// falls on 28 Feb, or 1 Mar with [`Feb29Rule::Mar1`]).
pub fn anchor_in_year(anchor: NaiveDate, year: i32, rule: Feb29Rule) -> NaiveDate {
    if let Some(d) = NaiveDate::from_ymd_opt(year, anchor.month(), anchor.day()) {
        return d;
    }
    // Only 29 February can be missing from a year.
    let fallback = match rule {
        Feb29Rule::Feb28 => NaiveDate::from_ymd_opt(year, 2, 28),
        Feb29Rule::Mar1 => NaiveDate::from_ymd_opt(year, 3, 1),
    };
    fallback.unwrap_or(anchor)
}

/// The anchor as it falls in a cycle: recurring workflows move it into `cycle_year`; others
/// use it as is (their cycle year is the anchor's own year).
pub fn cycle_anchor(def: &Definition, anchor: NaiveDate, cycle_year: i32) -> NaiveDate {
    if def.recur_annually {
        anchor_in_year(anchor, cycle_year, def.settings.feb29)
    } else {
        anchor
    }
}

/// Local wall time → UTC with the DST rules: a nonexistent local time (spring-forward gap)
/// runs at the first instant after the gap; an ambiguous one (fall back) at its first
/// occurrence (the earlier instant).
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    end_of_gap(tz, local)
}

/// The first instant after the DST gap containing `local`: the first valid local time after
/// it. Found by stepping minutes forward, then seconds back (gaps of historical zones need not
/// end on a whole minute). Gaps are rare, so the stepping costs nothing in practice.
fn end_of_gap(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let valid = |l: NaiveDateTime| tz.from_local_datetime(&l).earliest();
    let mut probe = local;
    for _ in 0..(48 * 60) {
        probe += Duration::minutes(1);
        if valid(probe).is_some() {
            break;
        }
    }
    for _ in 0..60 {
        let earlier = probe - Duration::seconds(1);
        if earlier <= local || valid(earlier).is_none() {
            break;
        }
        probe = earlier;
    }
    match valid(probe) {
        Some(t) => t.with_timezone(&Utc),
        // Unreachable for real zones (no gap lasts two days); read the time as UTC.
        None => Utc.from_utc_datetime(&local),
    }
}

/// Like [`resolve_local`], but an ambiguous local time takes its later occurrence when the
/// earlier one would fall before `floor`. Used when moving a time forward, which must never
/// move it back.
fn resolve_local_not_before(tz: Tz, local: NaiveDateTime, floor: DateTime<Utc>) -> DateTime<Utc> {
    let t = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, late) => {
            let early = early.with_timezone(&Utc);
            if early >= floor {
                early
            } else {
                late.with_timezone(&Utc)
            }
        }
        LocalResult::None => end_of_gap(tz, local),
    };
    t.max(floor)
}

/// `amount` days (or weeks) as a day count, capped at [`MAX_SPAN_DAYS`].
fn span_days(amount: u32, weeks: bool) -> u64 {
    let days = i64::from(amount) * if weeks { 7 } else { 1 };
    days.min(MAX_SPAN_DAYS) as u64
}

/// A local date moved by whole calendar days; out-of-range results keep the date.
fn shift_date(date: NaiveDate, days: u64, forward: bool) -> NaiveDate {
    let shifted = if forward {
        date.checked_add_days(Days::new(days))
    } else {
        date.checked_sub_days(Days::new(days))
    };
    shifted.unwrap_or(date)
}

fn weekday_of(date: NaiveDate) -> Weekday {
    Weekday::from_chrono(date.weekday())
}

// ---------------------------------------------------------------------------------------------
// Execution window
// ---------------------------------------------------------------------------------------------

/// The execution-window settings, parsed once per plan.
struct ExecRules {
    window: Option<Window>,
    pauses: Vec<NaiveDate>,
}

struct Window {
    days: Vec<Weekday>,
    start: NaiveTime,
    end: NaiveTime,
}

impl Window {
    /// `None` for a window that cannot be honoured (unparseable, or start not before end).
    fn parse(w: &ExecutionWindow) -> Option<Window> {
        let start = parse_time_of_day(&w.start)?;
        let end = parse_time_of_day(&w.end)?;
        (start < end).then(|| Window {
            days: w.days.clone(),
            start,
            end,
        })
    }
}

impl ExecRules {
    fn compile(settings: &Settings) -> ExecRules {
        ExecRules {
            window: settings.execution_window.as_ref().and_then(Window::parse),
            pauses: settings
                .pause_dates
                .iter()
                .filter_map(|s| parse_date(s))
                .collect(),
        }
    }

    fn is_identity(&self) -> bool {
        self.window.is_none() && self.pauses.is_empty()
    }

    /// Actions may run on this local date at all (allowed weekday, not paused).
    fn day_allowed(&self, date: NaiveDate) -> bool {
        let weekday_ok = self
            .window
            .as_ref()
            .is_none_or(|w| w.days.contains(&weekday_of(date)));
        weekday_ok && !self.pauses.contains(&date)
    }

    fn time_inside(&self, time: NaiveTime) -> bool {
        self.window
            .as_ref()
            .is_none_or(|w| w.start <= time && time < w.end)
    }

    fn apply(&self, t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        if self.is_identity() {
            return t;
        }
        let local = t.with_timezone(&tz).naive_local();
        let (date, time) = (local.date(), local.time());

        if self.day_allowed(date) {
            if self.time_inside(time) {
                return t;
            }
            if let Some(w) = &self.window {
                if time < w.start {
                    // An allowed day before the window opens: that day's start.
                    return resolve_local_not_before(tz, date.and_time(w.start), t);
                }
            }
        }

        // The next allowed day: the same time of day if inside the window, else its start.
        let target_time = match &self.window {
            Some(w) if !self.time_inside(time) => w.start,
            _ => time,
        };
        let bound = 7 * (self.pauses.len() as u64 + 1) + 1;
        (1..=bound)
            .map(|k| shift_date(date, k, true))
            .find(|d| self.day_allowed(*d))
            .map(|d| resolve_local_not_before(tz, d.and_time(target_time), t))
            // No allowed day at all (empty weekday list): leave the time unchanged.
            .unwrap_or(t)
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Moves an action time into the execution window and off pause dates, in the workflow zone
/// `tz`. An action due outside the window moves: on an allowed day before the window opens →
/// that day's start; otherwise → the next allowed day, at the same time of day if that is
/// inside the window, else at the window's start. Pause dates with no window: a paused day
/// moves to the next non-paused day at the same time. Identity when there is no window and
/// no pause dates; never moves a time backwards.
pub fn apply_window(t: DateTime<Utc>, settings: &Settings, tz: Tz) -> DateTime<Utc> {
    ExecRules::compile(settings).apply(t, tz)
}

// ---------------------------------------------------------------------------------------------
// Step times
// ---------------------------------------------------------------------------------------------

/// A date delay's nominal time: the anchor shifted by calendar days on the local date, at the
/// time of day (default 09:00), in the chosen zone.
fn date_delay_time(
    anchor: NaiveDate,
    when: When,
    amount: Option<u32>,
    unit: Option<DateUnit>,
    time_of_day: Option<&str>,
    zone: Option<ZoneChoice>,
    zones: &Zones,
) -> DateTime<Utc> {
    let days = span_days(amount.unwrap_or(0), unit == Some(DateUnit::Weeks));
    let date = match when {
        When::On => anchor,
        When::Before => shift_date(anchor, days, false),
        When::After => shift_date(anchor, days, true),
    };
    resolve_local(
        zones.for_choice(zone),
        date.and_time(time_or_default(time_of_day)),
    )
}

fn default_time_of_day() -> NaiveTime {
    parse_time_of_day(DEFAULT_TIME_OF_DAY).unwrap_or(NaiveTime::MIN)
}

/// The step's time of day, or 09:00 when absent (or, defensively, malformed).
fn time_or_default(s: Option<&str>) -> NaiveTime {
    s.and_then(parse_time_of_day)
        .unwrap_or_else(default_time_of_day)
}

/// `base` + a blank workflow's delay. Minutes and hours are elapsed time; days and weeks are
/// calendar days in `tz` at the same wall-clock time.
/// `base` plus a plain delay: minutes and hours as elapsed time, days and weeks as calendar
/// days at the same local time in `tz`.
pub fn add_delay(base: DateTime<Utc>, amount: u32, unit: TimeUnit, tz: Tz) -> DateTime<Utc> {
    let elapsed = |d: Duration| base.checked_add_signed(d).unwrap_or(base);
    match unit {
        TimeUnit::Minutes => elapsed(Duration::minutes(
            i64::from(amount).min(MAX_SPAN_DAYS * 24 * 60),
        )),
        TimeUnit::Hours => elapsed(Duration::hours(i64::from(amount).min(MAX_SPAN_DAYS * 24))),
        TimeUnit::Days | TimeUnit::Weeks => {
            let days = span_days(amount, unit == TimeUnit::Weeks);
            let local = base.with_timezone(&tz).naive_local();
            let date = shift_date(local.date(), days, true);
            resolve_local_not_before(tz, date.and_time(local.time()), base)
        }
    }
}

/// The first instant strictly after `base` that falls on one of `days` (any day when empty)
/// at `time` in `tz`.
fn next_weekday_time(
    base: DateTime<Utc>,
    days: &[Weekday],
    time: NaiveTime,
    tz: Tz,
) -> DateTime<Utc> {
    let start = base.with_timezone(&tz).date_naive();
    (0..=8)
        .map(|k| shift_date(start, k, true))
        .filter(|d| days.is_empty() || days.contains(&weekday_of(*d)))
        .map(|d| resolve_local(tz, d.and_time(time)))
        .find(|t| *t > base)
        .unwrap_or(base)
}

fn status_at(due: DateTime<Utc>, now: DateTime<Utc>) -> StepStatus {
    if due < now {
        StepStatus::SkippedPast
    } else {
        StepStatus::Due
    }
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// Plans `steps[from..]` of any step list (the top level, or a branch's `yes`/`no` path),
/// where the previous step ran at `prev_run` (`None`: nothing ran yet). Statuses are relative
/// to `now`. Returns one entry per planned step; `index` is the position in `steps`.
pub fn plan_steps(
    steps: &[Step],
    ctx: &PlanContext<'_>,
    from: usize,
    prev_run: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<PlannedStep> {
    let rules = ExecRules::compile(ctx.settings);
    let wz = ctx.zones.workflow;
    // When the previous step ran / ended, actual and as nominally planned.
    let mut cursor = prev_run;
    let mut nominal_cursor = prev_run;
    let mut out = Vec::with_capacity(steps.len().saturating_sub(from));

    for (index, step) in steps.iter().enumerate().skip(from) {
        let base = cursor.unwrap_or(now);
        let nominal_base = nominal_cursor.unwrap_or(now);
        let (due_at, nominal_at) = match step {
            Step::DateDelay {
                when,
                amount,
                unit,
                time_of_day,
                zone,
            } => match ctx.anchor {
                Some(anchor) => {
                    let nominal = date_delay_time(
                        anchor,
                        *when,
                        *amount,
                        *unit,
                        time_of_day.as_deref(),
                        *zone,
                        &ctx.zones,
                    );
                    // A delay cannot end before the step before it ran.
                    (cursor.map_or(nominal, |c| c.max(nominal)), nominal)
                }
                None => (base, nominal_base),
            },
            Step::Delay { amount, unit } => (
                add_delay(base, *amount, *unit, wz),
                add_delay(nominal_base, *amount, *unit, wz),
            ),
            Step::DelayUntil { days, time_of_day } => {
                let time = time_or_default(Some(time_of_day));
                (
                    next_weekday_time(base, days, time, wz),
                    next_weekday_time(nominal_base, days, time, wz),
                )
            }
            // Forks choose a path when reached; they are not moved by the window.
            s if s.is_fork() => (base, nominal_base),
            _ => (rules.apply(base, wz), nominal_base),
        };
        // A wait until may last until its timeout: what follows it is planned from there
        // (the latest it can start; the `met` path may start sooner).
        let (next_cursor, next_nominal) = match step {
            Step::WaitUntil { timeout, .. } => (
                add_delay(due_at, timeout.amount, timeout.unit, wz),
                add_delay(nominal_at, timeout.amount, timeout.unit, wz),
            ),
            _ => (due_at, nominal_at),
        };
        cursor = Some(next_cursor);
        nominal_cursor = Some(next_nominal);
        out.push(PlannedStep {
            index,
            type_name: step.type_name(),
            due_at,
            nominal_at,
            status: status_at(due_at, now),
        });
    }
    out
}

/// Plans the top-level `steps[from..]` of one cycle whose anchor is `cycle_anchor` (see
/// [`cycle_anchor`]; `None` for blank workflows). Used for the next year's cycle, for
/// re-planning after the date changed, and for the rest of a cycle after a step ran at
/// `prev_run`.
pub fn plan_cycle_from(
    def: &Definition,
    cycle_anchor: Option<NaiveDate>,
    zones: &Zones,
    from: usize,
    prev_run: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<PlannedStep> {
    let ctx = PlanContext {
        settings: &def.settings,
        anchor: cycle_anchor,
        zones: *zones,
    };
    plan_steps(&def.steps, &ctx, from, prev_run, now)
}

fn first_due(steps: &[PlannedStep]) -> Option<usize> {
    steps
        .iter()
        .find(|s| s.status == StepStatus::Due)
        .map(|s| s.index)
}

/// The whole plan of one cycle year of a recurring workflow.
fn plan_year(
    def: &Definition,
    anchor: NaiveDate,
    zones: &Zones,
    year: i32,
    now: DateTime<Utc>,
) -> EnrollmentPlan {
    let in_cycle = anchor_in_year(anchor, year, def.settings.feb29);
    let steps = plan_cycle_from(def, Some(in_cycle), zones, 0, None, now);
    EnrollmentPlan {
        anchor_date: Some(in_cycle),
        cycle_year: Some(year),
        next: first_due(&steps),
        steps,
    }
}

/// Whether a planned cycle still has an action to come: a top-level step that is not a delay
/// (an action or a branch) whose time is not past — or, when every step is a delay, any step.
/// While this holds the cycle is the contact's, its passed steps skipped (DESIGN §2).
fn has_action_to_come(def: &Definition, plan: &EnrollmentPlan) -> bool {
    let has_actions = def.steps.iter().any(|s| !s.is_delay());
    plan.steps.iter().any(|p| {
        p.status == StepStatus::Due
            && (!has_actions || def.steps.get(p.index).is_some_and(|s| !s.is_delay()))
    })
}

/// Picks the cycle of a recurring workflow starting at `year`: that year's cycle while any of
/// its actions is still to come (the passed ones are skipped), else the next year's, and later
/// years while a cycle has nothing to come (offsets longer than a year).
fn plan_recurring(
    def: &Definition,
    anchor: NaiveDate,
    zones: &Zones,
    year: i32,
    now: DateTime<Utc>,
) -> EnrollmentPlan {
    let mut year = year;
    let mut plan = plan_year(def, anchor, zones, year, now);
    let mut tries = 0;
    while !def.steps.is_empty()
        && !has_action_to_come(def, &plan)
        && tries <= MAX_RECURRING_LOOKAHEAD_YEARS
    {
        year += 1;
        tries += 1;
        plan = plan_year(def, anchor, zones, year, now);
    }
    plan
}

/// The plan for a contact enrolling at `now`. `anchor` is the raw anchor date (the specific
/// date, or the contact's date property value); `None` for blank workflows, and
/// [`ScheduleError::MissingAnchor`] for a date-centred workflow without one. Values the
/// scheduler parses (times of day, the window, pause dates) are checked first.
pub fn plan_enrollment(
    def: &Definition,
    anchor: Option<NaiveDate>,
    zones: &Zones,
    now: DateTime<Utc>,
) -> Result<EnrollmentPlan, ScheduleError> {
    check_definition(def)?;
    if !def.start.is_date_centred() {
        let steps = plan_cycle_from(def, None, zones, 0, None, now);
        return Ok(EnrollmentPlan {
            anchor_date: None,
            cycle_year: None,
            next: first_due(&steps),
            steps,
        });
    }
    let anchor = anchor.ok_or(ScheduleError::MissingAnchor)?;
    if def.recur_annually {
        let year = now.with_timezone(&zones.workflow).year();
        return Ok(plan_recurring(def, anchor, zones, year, now));
    }
    let steps = plan_cycle_from(def, Some(anchor), zones, 0, None, now);
    Ok(EnrollmentPlan {
        anchor_date: Some(anchor),
        cycle_year: Some(anchor.year()),
        next: first_due(&steps),
        steps,
    })
}

/// The cycle that follows `after_year` when a recurring workflow's cycle ends (after the
/// engine re-checked triggers and suppression). Starts at `after_year + 1` — or at the year
/// before `now`'s when the workflow was idle for longer — and applies the same first-action
/// and nothing-due rules as [`plan_enrollment`].
pub fn plan_next_cycle(
    def: &Definition,
    anchor: NaiveDate,
    zones: &Zones,
    after_year: i32,
    now: DateTime<Utc>,
) -> EnrollmentPlan {
    let now_year = now.with_timezone(&zones.workflow).year();
    let start = after_year.saturating_add(1).max(now_year - 1);
    plan_recurring(def, anchor, zones, start, now)
}

/// Checks every value the scheduler parses: date-delay and delay-until times of day (also
/// inside branches), the execution window's times and the pause dates. Validation of the
/// definition normally reports these first; this keeps a bad value from silently becoming
/// 09:00 or "no window".
pub fn check_definition(def: &Definition) -> Result<(), ScheduleError> {
    check_steps(&def.steps, "steps")?;
    let settings = &def.settings;
    if let Some(w) = &settings.execution_window {
        let field = |name: &str| format!("settings.execution_window.{name}");
        let start = parse_time_of_day(&w.start)
            .ok_or_else(|| invalid(field("start"), "must be a time HH:MM"))?;
        let end = parse_time_of_day(&w.end)
            .ok_or_else(|| invalid(field("end"), "must be a time HH:MM"))?;
        if start >= end {
            return Err(invalid(field("end"), "must be after the start time"));
        }
    }
    for (i, d) in settings.pause_dates.iter().enumerate() {
        if parse_date(d).is_none() {
            return Err(invalid(
                format!("settings.pause_dates[{i}]"),
                "must be a date YYYY-MM-DD",
            ));
        }
    }
    Ok(())
}

fn check_steps(steps: &[Step], path: &str) -> Result<(), ScheduleError> {
    for (i, step) in steps.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let time = match step {
            Step::DateDelay { time_of_day, .. } => time_of_day.as_deref(),
            Step::DelayUntil { time_of_day, .. } => Some(time_of_day.as_str()),
            s if s.is_fork() => {
                for (arm, steps) in s.arms() {
                    // Split paths are `paths[k].steps` in the JSON.
                    let at = match arm.strip_prefix('p').and_then(|k| k.parse::<usize>().ok()) {
                        Some(k) if matches!(s, Step::RandomSplit { .. }) => {
                            format!("{here}.paths[{k}].steps")
                        }
                        _ => format!("{here}.{arm}"),
                    };
                    check_steps(steps, &at)?;
                }
                None
            }
            _ => None,
        };
        if let Some(t) = time {
            if parse_time_of_day(t).is_none() {
                return Err(invalid(
                    format!("{here}.time_of_day"),
                    "must be a time HH:MM",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::Oslo;
    use chrono_tz::UTC;
    use serde_json::{json, Value};
    use StepStatus::{Due, SkippedPast as Skip};

    // -- builders ------------------------------------------------------------------------

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("bad test instant {s}: {e}"))
            .with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        parse_date(s).unwrap_or_else(|| panic!("bad test date {s}"))
    }

    fn definition(v: Value) -> Definition {
        serde_json::from_value(v).expect("test definition must deserialize")
    }

    /// A contact-date-property workflow.
    fn dated(recurring: bool, steps: Value, settings: Value) -> Value {
        json!({ "name": "t",
            "start": { "type": "contact_date_property", "property": "renewal_date" },
            "recur_annually": recurring, "steps": steps, "settings": settings })
    }

    fn blank(steps: Value, settings: Value) -> Value {
        json!({ "name": "t", "start": { "type": "blank" }, "steps": steps, "settings": settings })
    }

    fn email() -> Value {
        json!({ "type": "send_email", "subject": "s", "body": "b" })
    }

    fn set_prop() -> Value {
        json!({ "type": "set_property", "property": "p", "value": "v" })
    }

    /// A date delay; `amount`/`unit`/`time` are omitted from the JSON when `None`.
    fn dd(when: &str, amount: Option<u32>, unit: Option<&str>, time: Option<&str>) -> Value {
        let mut v = json!({ "type": "date_delay", "when": when });
        if let Some(a) = amount {
            v["amount"] = json!(a);
        }
        if let Some(u) = unit {
            v["unit"] = json!(u);
        }
        if let Some(t) = time {
            v["time_of_day"] = json!(t);
        }
        v
    }

    fn on(time: &str) -> Value {
        dd("on", None, None, Some(time))
    }

    fn with_zone(mut step: Value, zone: &str) -> Value {
        step["zone"] = json!(zone);
        step
    }

    /// Weekdays 09:00–17:00, plus pause dates.
    fn office_hours(pause: &[&str]) -> Value {
        json!({ "execution_window": { "days": ["mon","tue","wed","thu","fri"],
                "start": "09:00", "end": "17:00" }, "pause_dates": pause })
    }

    fn zones(workflow: Tz, contact: Option<Tz>) -> Zones {
        Zones { workflow, contact }
    }

    // -- the enrollment table ------------------------------------------------------------

    struct Case {
        name: &'static str,
        def: Value,
        anchor: Option<&'static str>,
        workflow: Tz,
        contact: Option<Tz>,
        now: &'static str,
        cycle_year: Option<i32>,
        anchor_date: Option<&'static str>,
        /// Expected `(due_at, status)` per top-level step.
        steps: Vec<(&'static str, StepStatus)>,
        next: Option<usize>,
    }

    /// The common shape: UTC, non-recurring `[date delay, email]`, anchor 2026-05-10 (a Sunday).
    fn case(name: &'static str, delay: Value, expected_due: &'static str) -> Case {
        Case {
            name,
            def: dated(false, json!([delay, email()]), json!({})),
            anchor: Some("2026-05-10"),
            workflow: UTC,
            contact: None,
            now: "2026-01-01T00:00:00Z",
            cycle_year: Some(2026),
            anchor_date: Some("2026-05-10"),
            steps: vec![(expected_due, Due), (expected_due, Due)],
            next: Some(0),
        }
    }

    /// Steps used by the skipping cases: 30 days before at 09:00, email, on the date at 08:00,
    /// set property.
    fn renewal_steps() -> Value {
        json!([
            dd("before", Some(30), Some("days"), Some("09:00")),
            email(),
            on("08:00"),
            set_prop()
        ])
    }

    fn cases() -> Vec<Case> {
        vec![
            // --- date delays: on / before / after, days and weeks --------------------------
            case("on the date at the default 09:00", dd("on", None, None, None), "2026-05-10T09:00:00Z"),
            case("3 days before at 08:15", dd("before", Some(3), Some("days"), Some("08:15")), "2026-05-07T08:15:00Z"),
            case("2 weeks after at 17:30", dd("after", Some(2), Some("weeks"), Some("17:30")), "2026-05-24T17:30:00Z"),
            case("1 week before at the default time", dd("before", Some(1), Some("weeks"), None), "2026-05-03T09:00:00Z"),
            case("after 0 days equals on the date", dd("after", Some(0), Some("days"), Some("09:00")), "2026-05-10T09:00:00Z"),
            case("an amount without unit counts days", dd("before", Some(10), None, Some("09:00")), "2026-04-30T09:00:00Z"),
            case("60 days after crosses month ends in calendar days", dd("after", Some(60), Some("days"), Some("12:00")), "2026-07-09T12:00:00Z"),
            // --- zones ---------------------------------------------------------------------
            Case {
                workflow: Oslo,
                ..case("time of day in the workflow zone (CEST)", on("09:00"), "2026-05-10T09:00:00+02:00")
            },
            Case {
                workflow: Oslo,
                contact: Some(New_York),
                ..case("zone: contact uses the contact's zone", with_zone(on("09:00"), "contact"), "2026-05-10T09:00:00-04:00")
            },
            Case {
                workflow: Oslo,
                ..case("zone: contact without a contact zone falls back to the workflow's", with_zone(on("09:00"), "contact"), "2026-05-10T09:00:00+02:00")
            },
            Case {
                workflow: Oslo,
                contact: Some(New_York),
                ..case("zone: workflow ignores the contact's zone", with_zone(on("09:00"), "workflow"), "2026-05-10T09:00:00+02:00")
            },
            // --- DST -----------------------------------------------------------------------
            Case {
                workflow: Oslo,
                anchor: Some("2026-03-29"),
                anchor_date: Some("2026-03-29"),
                ..case("Oslo spring-forward gap runs at 03:00+02:00", on("02:30"), "2026-03-29T03:00:00+02:00")
            },
            Case {
                workflow: Oslo,
                anchor: Some("2026-10-25"),
                anchor_date: Some("2026-10-25"),
                ..case("Oslo fall-back overlap runs at the first occurrence", on("02:30"), "2026-10-25T02:30:00+02:00")
            },
            Case {
                workflow: New_York,
                anchor: Some("2026-03-08"),
                anchor_date: Some("2026-03-08"),
                ..case("New York spring-forward gap runs at 03:00-04:00", on("02:30"), "2026-03-08T03:00:00-04:00")
            },
            Case {
                workflow: New_York,
                anchor: Some("2026-11-01"),
                anchor_date: Some("2026-11-01"),
                ..case("New York fall-back overlap runs at the first occurrence", on("01:30"), "2026-11-01T01:30:00-04:00")
            },
            Case {
                workflow: UTC,
                contact: Some(New_York),
                anchor: Some("2026-03-08"),
                anchor_date: Some("2026-03-08"),
                ..case("DST rules apply in the contact zone too", with_zone(on("02:00"), "contact"), "2026-03-08T03:00:00-04:00")
            },
            // --- skipping what has passed --------------------------------------------------
            Case {
                name: "enrolled after some steps passed: skip them, continue with the next",
                def: dated(false, renewal_steps(), json!({})),
                now: "2026-04-20T00:00:00Z",
                steps: vec![
                    ("2026-04-10T09:00:00Z", Skip),
                    ("2026-04-10T09:00:00Z", Skip),
                    ("2026-05-10T08:00:00Z", Due),
                    ("2026-05-10T08:00:00Z", Due),
                ],
                next: Some(2),
                ..case("", json!(null), "")
            },
            Case {
                name: "all steps passed, non-recurring: nothing next (completes)",
                def: dated(false, renewal_steps(), json!({})),
                now: "2026-06-01T00:00:00Z",
                steps: vec![
                    ("2026-04-10T09:00:00Z", Skip),
                    ("2026-04-10T09:00:00Z", Skip),
                    ("2026-05-10T08:00:00Z", Skip),
                    ("2026-05-10T08:00:00Z", Skip),
                ],
                next: None,
                ..case("", json!(null), "")
            },
            Case {
                name: "all steps passed, recurring: next year's cycle",
                def: dated(true, renewal_steps(), json!({})),
                now: "2026-06-01T00:00:00Z",
                cycle_year: Some(2027),
                anchor_date: Some("2027-05-10"),
                steps: vec![
                    ("2027-04-10T09:00:00Z", Due),
                    ("2027-04-10T09:00:00Z", Due),
                    ("2027-05-10T08:00:00Z", Due),
                    ("2027-05-10T08:00:00Z", Due),
                ],
                next: Some(0),
                ..case("", json!(null), "")
            },
            Case {
                name: "time exactly equal to now is due",
                now: "2026-05-10T09:00:00Z",
                ..case("", on("09:00"), "2026-05-10T09:00:00Z")
            },
            Case {
                name: "one second after the time is skipped",
                now: "2026-05-10T09:00:01Z",
                steps: vec![("2026-05-10T09:00:00Z", Skip), ("2026-05-10T09:00:00Z", Skip)],
                next: None,
                ..case("", on("09:00"), "")
            },
            // --- repeat annually -----------------------------------------------------------
            Case {
                name: "recurring: cycle in the current year",
                def: dated(true, renewal_steps(), json!({})),
                anchor: Some("2019-05-10"),
                now: "2026-01-15T00:00:00Z",
                steps: vec![
                    ("2026-04-10T09:00:00Z", Due),
                    ("2026-04-10T09:00:00Z", Due),
                    ("2026-05-10T08:00:00Z", Due),
                    ("2026-05-10T08:00:00Z", Due),
                ],
                ..case("", json!(null), "")
            },
            Case {
                name: "recurring: first action passed, a later one ahead: this year, the passed skipped",
                def: dated(true, renewal_steps(), json!({})),
                anchor: Some("2019-05-10"),
                now: "2026-04-20T00:00:00Z",
                cycle_year: Some(2026),
                anchor_date: Some("2026-05-10"),
                steps: vec![
                    ("2026-04-10T09:00:00Z", Skip),
                    ("2026-04-10T09:00:00Z", Skip),
                    ("2026-05-10T08:00:00Z", Due),
                    ("2026-05-10T08:00:00Z", Due),
                ],
                next: Some(2),
                ..case("", json!(null), "")
            },
            Case {
                name: "recurring (DESIGN): renewal 29 Dec, 30 days and 1 week before, enrolled 4 Dec",
                def: dated(true, json!([
                    dd("before", Some(30), Some("days"), Some("09:00")), email(),
                    dd("before", Some(1), Some("weeks"), Some("09:00")), email()
                ]), json!({})),
                anchor: Some("2020-12-29"),
                now: "2026-12-04T10:00:00Z",
                cycle_year: Some(2026),
                anchor_date: Some("2026-12-29"),
                steps: vec![
                    ("2026-11-29T09:00:00Z", Skip),
                    ("2026-11-29T09:00:00Z", Skip),
                    ("2026-12-22T09:00:00Z", Due),
                    ("2026-12-22T09:00:00Z", Due),
                ],
                next: Some(2),
                ..case("", json!(null), "")
            },
            Case {
                name: "recurring: every action of this year passed, only a delay ahead: next year",
                def: dated(true, json!([
                    dd("before", Some(30), Some("days"), Some("09:00")), email(), on("08:00")
                ]), json!({})),
                anchor: Some("2019-05-10"),
                now: "2026-04-20T00:00:00Z",
                cycle_year: Some(2027),
                anchor_date: Some("2027-05-10"),
                steps: vec![
                    ("2027-04-10T09:00:00Z", Due),
                    ("2027-04-10T09:00:00Z", Due),
                    ("2027-05-10T08:00:00Z", Due),
                ],
                ..case("", json!(null), "")
            },
            Case {
                name: "recurring: a passed delay before a future first action stays in this year",
                def: dated(true, json!([dd("before", Some(30), None, Some("09:00")), on("08:00"), email()]), json!({})),
                anchor: Some("2019-05-10"),
                now: "2026-04-20T00:00:00Z",
                steps: vec![
                    ("2026-04-10T09:00:00Z", Skip),
                    ("2026-05-10T08:00:00Z", Due),
                    ("2026-05-10T08:00:00Z", Due),
                ],
                next: Some(1),
                ..case("", json!(null), "")
            },
            Case {
                name: "recurring: a future anchor year is ignored",
                def: dated(true, json!([on("09:00"), email()]), json!({})),
                anchor: Some("2030-05-10"),
                now: "2026-01-15T00:00:00Z",
                ..case("", json!(null), "2026-05-10T09:00:00Z")
            },
            Case {
                name: "non-recurring: a future anchor year is kept",
                anchor: Some("2030-05-10"),
                cycle_year: Some(2030),
                anchor_date: Some("2030-05-10"),
                ..case("", on("09:00"), "2030-05-10T09:00:00Z")
            },
            Case {
                name: "recurring: the year of now is taken in the workflow zone",
                def: dated(true, json!([on("09:00"), email()]), json!({})),
                anchor: Some("2019-05-10"),
                workflow: Oslo,
                // 23:30Z on 31 Dec is already 2026 in Oslo.
                now: "2025-12-31T23:30:00Z",
                ..case("", json!(null), "2026-05-10T09:00:00+02:00")
            },
            Case {
                name: "recurring: the first action's time is after the window (moved ahead: same year)",
                def: dated(true, json!([on("18:00"), email()]), office_hours(&[])),
                anchor: Some("2019-05-15"),
                now: "2026-05-15T20:00:00Z",
                anchor_date: Some("2026-05-15"),
                steps: vec![("2026-05-15T18:00:00Z", Skip), ("2026-05-18T09:00:00Z", Due)],
                next: Some(1),
                ..case("", json!(null), "")
            },
            Case {
                name: "seed: 300 days after 2020-01-20, enrolled 2021-03-01 → 2021-11-16",
                def: dated(true, json!([dd("after", Some(300), Some("days"), Some("09:00")), email()]), json!({})),
                anchor: Some("2020-01-20"),
                now: "2021-03-01T00:00:00Z",
                cycle_year: Some(2021),
                anchor_date: Some("2021-01-20"),
                ..case("", json!(null), "2021-11-16T09:00:00Z")
            },
            Case {
                name: "seed: enrolled 2021-12-01 → cycle 2022, 2022-11-16",
                def: dated(true, json!([dd("after", Some(300), Some("days"), Some("09:00")), email()]), json!({})),
                anchor: Some("2020-01-20"),
                now: "2021-12-01T00:00:00Z",
                cycle_year: Some(2022),
                anchor_date: Some("2022-01-20"),
                ..case("", json!(null), "2022-11-16T09:00:00Z")
            },
            // --- 29 February ---------------------------------------------------------------
            Case {
                name: "29 Feb, non-leap year, feb28 rule",
                def: dated(true, json!([on("09:00"), email()]), json!({ "feb29": "feb28" })),
                anchor: Some("2020-02-29"),
                now: "2026-01-10T00:00:00Z",
                anchor_date: Some("2026-02-28"),
                ..case("", json!(null), "2026-02-28T09:00:00Z")
            },
            Case {
                name: "29 Feb, non-leap year, mar1 rule",
                def: dated(true, json!([on("09:00"), email()]), json!({ "feb29": "mar1" })),
                anchor: Some("2020-02-29"),
                now: "2026-01-10T00:00:00Z",
                anchor_date: Some("2026-03-01"),
                ..case("", json!(null), "2026-03-01T09:00:00Z")
            },
            Case {
                name: "29 Feb, leap year, feb28 rule keeps the 29th",
                def: dated(true, json!([on("09:00"), email()]), json!({ "feb29": "feb28" })),
                anchor: Some("2020-02-29"),
                now: "2028-01-10T00:00:00Z",
                cycle_year: Some(2028),
                anchor_date: Some("2028-02-29"),
                ..case("", json!(null), "2028-02-29T09:00:00Z")
            },
            Case {
                name: "29 Feb, leap year, mar1 rule keeps the 29th",
                def: dated(true, json!([on("09:00"), email()]), json!({ "feb29": "mar1" })),
                anchor: Some("2020-02-29"),
                now: "2028-01-10T00:00:00Z",
                cycle_year: Some(2028),
                anchor_date: Some("2028-02-29"),
                ..case("", json!(null), "2028-02-29T09:00:00Z")
            },
            Case {
                name: "29 Feb, relative offsets count from the moved day (1 Mar + 1 day)",
                def: dated(true, json!([dd("after", Some(1), None, Some("09:00")), email()]), json!({ "feb29": "mar1" })),
                anchor: Some("2020-02-29"),
                now: "2026-01-10T00:00:00Z",
                anchor_date: Some("2026-03-01"),
                ..case("", json!(null), "2026-03-02T09:00:00Z")
            },
            Case {
                name: "29 Feb, recurring, passed this year → the next year's 28 Feb",
                def: dated(true, json!([on("09:00"), email()]), json!({})),
                anchor: Some("2024-02-29"),
                now: "2026-03-10T00:00:00Z",
                cycle_year: Some(2027),
                anchor_date: Some("2027-02-28"),
                ..case("", json!(null), "2027-02-28T09:00:00Z")
            },
            // --- execution window ----------------------------------------------------------
            Case {
                name: "window: before it opens on an allowed day → that day's start",
                def: dated(false, json!([on("07:00"), email()]), office_hours(&[])),
                anchor: Some("2026-05-13"), // Wednesday
                anchor_date: Some("2026-05-13"),
                steps: vec![("2026-05-13T07:00:00Z", Due), ("2026-05-13T09:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: after it closes → the next allowed day's start",
                def: dated(false, json!([on("18:00"), email()]), office_hours(&[])),
                anchor: Some("2026-05-13"),
                anchor_date: Some("2026-05-13"),
                steps: vec![("2026-05-13T18:00:00Z", Due), ("2026-05-14T09:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: its end is exclusive (Friday 17:00 → Monday 09:00)",
                def: dated(false, json!([on("17:00"), email()]), office_hours(&[])),
                anchor: Some("2026-05-15"),
                anchor_date: Some("2026-05-15"),
                steps: vec![("2026-05-15T17:00:00Z", Due), ("2026-05-18T09:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: weekend inside hours → Monday at the same time",
                def: dated(false, json!([on("11:00"), email()]), office_hours(&[])),
                anchor: Some("2026-05-16"), // Saturday
                anchor_date: Some("2026-05-16"),
                steps: vec![("2026-05-16T11:00:00Z", Due), ("2026-05-18T11:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: weekend outside hours → Monday's start",
                def: dated(false, json!([on("20:00"), email()]), office_hours(&[])),
                anchor: Some("2026-05-16"),
                anchor_date: Some("2026-05-16"),
                steps: vec![("2026-05-16T20:00:00Z", Due), ("2026-05-18T09:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: a pause date moves to the next allowed day, same time",
                def: dated(false, json!([on("11:00"), email()]), office_hours(&["2026-05-13"])),
                anchor: Some("2026-05-13"),
                anchor_date: Some("2026-05-13"),
                steps: vec![("2026-05-13T11:00:00Z", Due), ("2026-05-14T11:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: pause dates without a window → next unpaused day, same time",
                def: dated(false, json!([on("11:00"), email()]), json!({ "pause_dates": ["2026-05-10", "2026-05-11"] })),
                steps: vec![("2026-05-10T11:00:00Z", Due), ("2026-05-12T11:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: applies in the workflow zone, not the contact's",
                // 18:00 in New York on Wed = 00:00 Thu in Oslo: before Thursday's window.
                def: dated(false, json!([with_zone(on("18:00"), "contact"), email()]), office_hours(&[])),
                anchor: Some("2026-05-13"),
                anchor_date: Some("2026-05-13"),
                workflow: Oslo,
                contact: Some(New_York),
                steps: vec![("2026-05-13T18:00:00-04:00", Due), ("2026-05-14T09:00:00+02:00", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: order is never broken (2nd action runs at the 1st's moved time)",
                // Fri 18:00 → Mon 09:00; the next delay (Sat 10:00) ends then too.
                def: dated(
                    false,
                    json!([on("18:00"), email(), dd("after", Some(1), None, Some("10:00")), set_prop()]),
                    office_hours(&[]),
                ),
                anchor: Some("2026-05-15"),
                anchor_date: Some("2026-05-15"),
                steps: vec![
                    ("2026-05-15T18:00:00Z", Due),
                    ("2026-05-18T09:00:00Z", Due),
                    ("2026-05-18T09:00:00Z", Due),
                    ("2026-05-18T09:00:00Z", Due),
                ],
                ..case("", json!(null), "")
            },
            Case {
                name: "window: a moved action can make a passed step due again",
                def: dated(false, json!([on("18:00"), email()]), office_hours(&[])),
                anchor: Some("2026-05-15"),
                anchor_date: Some("2026-05-15"),
                now: "2026-05-16T12:00:00Z",
                steps: vec![("2026-05-15T18:00:00Z", Skip), ("2026-05-18T09:00:00Z", Due)],
                next: Some(1),
                ..case("", json!(null), "")
            },
            // --- year ends ------------------------------------------------------------------
            Case {
                name: "30 days before 2027-01-10 is 2026-12-11 (cycle = anchor year)",
                def: dated(false, json!([dd("before", Some(30), None, Some("09:00")), email()]), json!({})),
                anchor: Some("2027-01-10"),
                now: "2026-06-01T00:00:00Z",
                cycle_year: Some(2027),
                anchor_date: Some("2027-01-10"),
                ..case("", json!(null), "2026-12-11T09:00:00Z")
            },
            Case {
                name: "recurring across the year end: this year's cycle passed → next year's, due in December",
                def: dated(true, json!([dd("before", Some(30), None, Some("09:00")), email()]), json!({})),
                anchor: Some("2020-01-10"),
                now: "2026-12-01T00:00:00Z",
                cycle_year: Some(2027),
                anchor_date: Some("2027-01-10"),
                ..case("", json!(null), "2026-12-11T09:00:00Z")
            },
            // --- blank workflows ------------------------------------------------------------
            Case {
                name: "blank: delay 2 hours, then the action",
                def: blank(json!([{ "type": "delay", "amount": 2, "unit": "hours" }, email()]), json!({})),
                anchor: None,
                now: "2026-05-13T10:15:00Z",
                cycle_year: None,
                anchor_date: None,
                ..case("", json!(null), "2026-05-13T12:15:00Z")
            },
            Case {
                name: "blank: delay_until Monday 09:00 from a Wednesday (workflow zone)",
                def: blank(json!([{ "type": "delay_until", "days": ["mon"], "time_of_day": "09:00" }, email()]), json!({})),
                anchor: None,
                workflow: Oslo,
                now: "2026-05-13T10:00:00Z",
                cycle_year: None,
                anchor_date: None,
                ..case("", json!(null), "2026-05-18T09:00:00+02:00")
            },
            Case {
                name: "blank: delay_until is strictly after (Monday 09:00 exactly → next Monday)",
                def: blank(json!([{ "type": "delay_until", "days": ["mon"], "time_of_day": "09:00" }, email()]), json!({})),
                anchor: None,
                workflow: Oslo,
                now: "2026-05-18T09:00:00+02:00",
                cycle_year: None,
                anchor_date: None,
                ..case("", json!(null), "2026-05-25T09:00:00+02:00")
            },
            Case {
                name: "blank: delay_until later the same day",
                def: blank(json!([{ "type": "delay_until", "days": ["mon", "thu"], "time_of_day": "09:00" }, email()]), json!({})),
                anchor: None,
                workflow: Oslo,
                now: "2026-05-18T07:00:00+02:00",
                cycle_year: None,
                anchor_date: None,
                ..case("", json!(null), "2026-05-18T09:00:00+02:00")
            },
            Case {
                name: "blank: delay 1 day keeps the wall time across the DST change",
                def: blank(json!([{ "type": "delay", "amount": 1, "unit": "days" }, email()]), json!({})),
                anchor: None,
                workflow: Oslo,
                now: "2026-03-28T10:00:00+01:00",
                cycle_year: None,
                anchor_date: None,
                ..case("", json!(null), "2026-03-29T10:00:00+02:00")
            },
            Case {
                name: "blank: a first action runs at enrollment, then the window",
                def: blank(json!([email()]), office_hours(&[])),
                anchor: None,
                now: "2026-05-16T12:00:00Z", // Saturday
                cycle_year: None,
                anchor_date: None,
                steps: vec![("2026-05-18T12:00:00Z", Due)],
                ..case("", json!(null), "")
            },
            Case {
                name: "blank: an anchor passed in is ignored, and so is recur_annually",
                def: {
                    let mut d = blank(json!([{ "type": "delay", "amount": 30, "unit": "minutes" }, email()]), json!({}));
                    d["recur_annually"] = json!(true);
                    d
                },
                anchor: Some("2020-01-01"),
                now: "2026-05-13T10:00:00Z",
                cycle_year: None,
                anchor_date: None,
                ..case("", json!(null), "2026-05-13T10:30:00Z")
            },
            Case {
                name: "blank: a branch takes no time",
                def: blank(
                    json!([{ "type": "delay", "amount": 1, "unit": "weeks" },
                           { "type": "branch", "condition": [], "yes": [email()], "no": [] },
                           email()]),
                    json!({}),
                ),
                anchor: None,
                now: "2026-05-13T10:00:00Z",
                cycle_year: None,
                anchor_date: None,
                steps: vec![
                    ("2026-05-20T10:00:00Z", Due),
                    ("2026-05-20T10:00:00Z", Due),
                    ("2026-05-20T10:00:00Z", Due),
                ],
                ..case("", json!(null), "")
            },
        ]
    }

    #[test]
    fn enrollment_table() {
        let mut failures = Vec::new();
        let all = cases();
        for c in &all {
            let def = definition(c.def.clone());
            let plan = plan_enrollment(
                &def,
                c.anchor.map(day),
                &zones(c.workflow, c.contact),
                at(c.now),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let got: Vec<(DateTime<Utc>, StepStatus)> =
                plan.steps.iter().map(|s| (s.due_at, s.status)).collect();
            let want: Vec<(DateTime<Utc>, StepStatus)> =
                c.steps.iter().map(|(t, s)| (at(t), *s)).collect();
            if got != want
                || plan.next != c.next
                || plan.cycle_year != c.cycle_year
                || plan.anchor_date != c.anchor_date.map(day)
            {
                failures.push(format!(
                    "{}:\n  got  steps {:?} next {:?} cycle {:?} anchor {:?}\n  want steps {:?} next {:?} cycle {:?} anchor {:?}",
                    c.name, got, plan.next, plan.cycle_year, plan.anchor_date,
                    want, c.next, c.cycle_year, c.anchor_date,
                ));
            }
            // Invariants of every plan: one entry per step in order, times never decrease,
            // skipped steps form a prefix, and `next` is the first due step.
            assert_eq!(plan.steps.len(), def.steps.len(), "{}", c.name);
            for (i, (s, step)) in plan.steps.iter().zip(&def.steps).enumerate() {
                assert_eq!((s.index, s.type_name), (i, step.type_name()), "{}", c.name);
            }
            assert!(
                plan.steps.windows(2).all(|w| w[0].due_at <= w[1].due_at),
                "{}: order",
                c.name
            );
            let skipped = plan.steps.iter().take_while(|s| s.status == Skip).count();
            assert!(
                plan.steps[skipped..].iter().all(|s| s.status == Due),
                "{}: prefix",
                c.name
            );
            assert_eq!(plan.next, plan.next_step().map(|s| s.index), "{}", c.name);
            if def.recur_annually && def.start.is_date_centred() && !def.steps.is_empty() {
                assert!(
                    plan.next.is_some(),
                    "{}: recurring plans always have a next step",
                    c.name
                );
            }
        }
        assert!(all.len() >= 35, "only {} cases", all.len());
        assert!(
            failures.is_empty(),
            "{} failing case(s):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    // -- building blocks -------------------------------------------------------------------

    #[test]
    fn resolve_local_table() {
        let rows: [(&str, Tz, &str, &str); 8] = [
            (
                "plain winter time",
                Oslo,
                "2026-01-15T09:00:00",
                "2026-01-15T09:00:00+01:00",
            ),
            (
                "plain summer time",
                Oslo,
                "2026-07-15T09:00:00",
                "2026-07-15T09:00:00+02:00",
            ),
            (
                "Oslo gap",
                Oslo,
                "2026-03-29T02:30:00",
                "2026-03-29T03:00:00+02:00",
            ),
            (
                "Oslo gap, first second",
                Oslo,
                "2026-03-29T02:00:00",
                "2026-03-29T03:00:00+02:00",
            ),
            (
                "Oslo gap, with seconds",
                Oslo,
                "2026-03-29T02:59:59",
                "2026-03-29T03:00:00+02:00",
            ),
            (
                "Oslo overlap",
                Oslo,
                "2026-10-25T02:30:00",
                "2026-10-25T02:30:00+02:00",
            ),
            (
                "New York gap",
                New_York,
                "2026-03-08T02:30:00",
                "2026-03-08T03:00:00-04:00",
            ),
            (
                "New York overlap",
                New_York,
                "2026-11-01T01:30:00",
                "2026-11-01T01:30:00-04:00",
            ),
        ];
        for (name, tz, local, want) in rows {
            let local = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S").unwrap();
            assert_eq!(resolve_local(tz, local), at(want), "{name}");
        }
        // The spec's examples, spelled in UTC.
        let oslo = |s| {
            resolve_local(
                Oslo,
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap(),
            )
        };
        assert_eq!(oslo("2026-03-29T02:30"), at("2026-03-29T01:00:00Z"));
        assert_eq!(oslo("2026-10-25T02:30"), at("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn anchor_in_year_table() {
        let rows = [
            ("2020-02-29", 2026, Feb29Rule::Feb28, "2026-02-28"),
            ("2020-02-29", 2026, Feb29Rule::Mar1, "2026-03-01"),
            ("2020-02-29", 2028, Feb29Rule::Feb28, "2028-02-29"),
            ("2020-02-29", 2028, Feb29Rule::Mar1, "2028-02-29"),
            ("2020-02-29", 2100, Feb29Rule::Mar1, "2100-03-01"), // 2100 is not a leap year
            ("2019-02-28", 2028, Feb29Rule::Mar1, "2028-02-28"),
            ("2030-12-31", 2026, Feb29Rule::Feb28, "2026-12-31"),
        ];
        for (anchor, year, rule, want) in rows {
            assert_eq!(
                anchor_in_year(day(anchor), year, rule),
                day(want),
                "{anchor} in {year} ({rule:?})"
            );
        }
    }

    #[test]
    fn parse_time_of_day_is_strict() {
        let ok = [
            ("09:00", (9, 0)),
            ("00:00", (0, 0)),
            ("23:59", (23, 59)),
            ("17:30", (17, 30)),
        ];
        for (s, (h, m)) in ok {
            assert_eq!(
                parse_time_of_day(s),
                NaiveTime::from_hms_opt(h, m, 0),
                "{s}"
            );
        }
        assert_eq!(
            parse_time_of_day("12:00:30"),
            NaiveTime::from_hms_opt(12, 0, 30)
        );
        for s in [
            "9:00",
            "24:00",
            "12:60",
            "12-00",
            "12:00:60",
            "12:00:0",
            " 12:00",
            "",
            "ab:cd",
            "+1:00",
            "１２:00",
        ] {
            assert_eq!(parse_time_of_day(s), None, "{s:?}");
        }
    }

    #[test]
    fn apply_window_edge_cases() {
        let settings = |v: Value| -> Settings { serde_json::from_value(v).unwrap() };
        let t = at("2026-05-16T20:00:00Z"); // Saturday evening
                                            // No window and no pause dates: identity.
        assert_eq!(apply_window(t, &settings(json!({})), UTC), t);
        // A window without allowed days cannot be satisfied: unchanged, and no endless loop.
        let none = settings(
            json!({ "execution_window": { "days": [], "start": "09:00", "end": "17:00" } }),
        );
        assert_eq!(apply_window(t, &none, UTC), t);
        // A window whose end is not after its start is ignored (validation rejects it).
        let inverted = settings(
            json!({ "execution_window": { "days": ["mon"], "start": "17:00", "end": "09:00" } }),
        );
        assert_eq!(apply_window(t, &inverted, UTC), t);
        // Many consecutive pause dates are skipped over (the search bound grows with them).
        let dates: Vec<String> = (0..40)
            .map(|k| {
                shift_date(day("2026-05-18"), k, true)
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .collect();
        let paused = settings(
            json!({ "execution_window": { "days": ["mon"], "start": "09:00", "end": "17:00" },
                                       "pause_dates": dates }),
        );
        assert_eq!(apply_window(t, &paused, UTC), at("2026-06-29T09:00:00Z"));
        // Window times are in the zone given (Oslo): 08:00Z on a Monday is 10:00 there.
        let office = settings(office_hours(&[]));
        assert_eq!(
            apply_window(at("2026-05-18T08:00:00Z"), &office, Oslo),
            at("2026-05-18T08:00:00Z")
        );
        assert_eq!(
            apply_window(at("2026-05-18T15:30:00Z"), &office, Oslo),
            at("2026-05-19T09:00:00+02:00")
        );
        // Moving into the window never goes back in time, even through a fall-back overlap:
        // the second 02:40 (+01:00) before a 02:45 start moves to the second 02:45.
        let night = settings(
            json!({ "execution_window": { "days": ["sun"], "start": "02:45", "end": "04:00" } }),
        );
        let second = at("2026-10-25T02:40:00+01:00");
        assert_eq!(
            apply_window(second, &night, Oslo),
            at("2026-10-25T02:45:00+01:00")
        );
    }

    #[test]
    fn moved_steps_keep_their_nominal_time() {
        let def = definition(dated(
            false,
            json!([
                on("18:00"),
                email(),
                dd("after", Some(1), None, Some("10:00")),
                set_prop()
            ]),
            office_hours(&[]),
        ));
        let plan = plan_enrollment(
            &def,
            Some(day("2026-05-15")),
            &zones(UTC, None),
            at("2026-05-01T00:00:00Z"),
        )
        .unwrap();
        let nominal: Vec<_> = plan
            .steps
            .iter()
            .map(|s| (s.nominal_at, s.was_moved()))
            .collect();
        assert_eq!(
            nominal,
            vec![
                (at("2026-05-15T18:00:00Z"), false),
                (at("2026-05-15T18:00:00Z"), true), // window: Fri 18:00 → Mon 09:00
                (at("2026-05-16T10:00:00Z"), true), // ordering: Sat 10:00 → Mon 09:00
                (at("2026-05-16T10:00:00Z"), true),
            ]
        );
    }

    #[test]
    fn rest_of_cycle_after_a_late_run() {
        // Step 1 ran late (catch-up) at 10:00 on the date; step 2's date delay (on the date at
        // 08:00) cannot end before that, so step 3 runs right after it.
        let def = definition(dated(false, renewal_steps(), json!({})));
        let ran = at("2026-05-10T10:00:00Z");
        let rest = plan_cycle_from(
            &def,
            Some(day("2026-05-10")),
            &zones(UTC, None),
            2,
            Some(ran),
            ran,
        );
        let got: Vec<_> = rest
            .iter()
            .map(|s| (s.index, s.due_at, s.nominal_at, s.status))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, ran, at("2026-05-10T08:00:00Z"), Due),
                (3, ran, at("2026-05-10T08:00:00Z"), Due),
            ]
        );
        // Past the end of the list: nothing to plan.
        assert!(plan_cycle_from(
            &def,
            Some(day("2026-05-10")),
            &zones(UTC, None),
            4,
            Some(ran),
            ran
        )
        .is_empty());
    }

    #[test]
    fn replanning_after_the_date_changed_skips_what_is_now_past() {
        // The anchor moved from 2026-06-10 to 2026-05-10 while enrolled; step 0 ran on
        // 2026-05-11. The remaining steps (on the date) are now in the past.
        let def = definition(dated(false, renewal_steps(), json!({})));
        let now = at("2026-05-20T12:00:00Z");
        let rest = plan_cycle_from(
            &def,
            Some(day("2026-05-10")),
            &zones(UTC, None),
            2,
            Some(at("2026-05-11T09:00:00Z")),
            now,
        );
        assert!(rest.iter().all(|s| s.status == Skip), "{rest:?}");
        // Moved to a later date instead: due again.
        let rest = plan_cycle_from(
            &def,
            Some(day("2026-06-10")),
            &zones(UTC, None),
            2,
            Some(at("2026-05-11T09:00:00Z")),
            now,
        );
        assert_eq!(rest[0].due_at, at("2026-06-10T08:00:00Z"));
        assert!(rest.iter().all(|s| s.status == Due));
    }

    #[test]
    fn branch_paths_are_planned_from_the_branch_run() {
        let def = definition(dated(
            false,
            json!([on("09:00"), { "type": "branch", "condition": [],
                "yes": [email(), dd("after", Some(7), None, Some("09:00")), set_prop()], "no": [] }]),
            office_hours(&[]),
        ));
        let Step::Branch { yes, .. } = &def.steps[1] else {
            panic!("step 1 is a branch")
        };
        let ctx = PlanContext {
            settings: &def.settings,
            anchor: Some(day("2026-05-13")),
            zones: zones(UTC, None),
        };
        let ran = at("2026-05-13T09:00:00Z");
        let path = plan_steps(yes, &ctx, 0, Some(ran), ran);
        let got: Vec<_> = path
            .iter()
            .map(|s| (s.index, s.type_name, s.due_at))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "send_email", ran),
                (1, "date_delay", at("2026-05-20T09:00:00Z")), // relative to the anchor
                (2, "set_property", at("2026-05-20T09:00:00Z")),
            ]
        );
    }

    #[test]
    fn next_cycle_of_a_recurring_workflow() {
        let def = definition(dated(
            true,
            json!([dd("after", Some(300), None, Some("09:00")), email()]),
            json!({}),
        ));
        let z = zones(UTC, None);
        // The 2021 cycle ended right after its action.
        let next = plan_next_cycle(
            &def,
            day("2020-01-20"),
            &z,
            2021,
            at("2021-11-16T09:00:05Z"),
        );
        assert_eq!((next.cycle_year, next.next), (Some(2022), Some(0)));
        assert_eq!(next.steps[1].due_at, at("2022-11-16T09:00:00Z"));
        // After years of downtime the next cycle is the first one with something ahead.
        let next = plan_next_cycle(
            &def,
            day("2020-01-20"),
            &z,
            2021,
            at("2025-12-01T00:00:00Z"),
        );
        assert_eq!(
            (next.cycle_year, next.anchor_date),
            (Some(2026), Some(day("2026-01-20")))
        );
        assert_eq!(next.steps[0].due_at, at("2026-11-16T09:00:00Z"));
    }

    #[test]
    fn offsets_longer_than_a_year_still_find_a_due_cycle() {
        let def = definition(dated(
            true,
            json!([dd("before", Some(800), None, Some("09:00")), email()]),
            json!({}),
        ));
        let plan = plan_enrollment(
            &def,
            Some(day("2020-05-10")),
            &zones(UTC, None),
            at("2026-06-01T00:00:00Z"),
        )
        .unwrap();
        let next = plan
            .next_step()
            .expect("a recurring plan always has a next step");
        assert!(next.due_at >= at("2026-06-01T00:00:00Z"));
        // 2026: its first action (in 2024) passed → 2027 (steps in 2025: nothing due) → 2028
        // (2026-03-02: nothing due) → 2029, whose steps fall on 2027-03-02.
        assert_eq!(plan.cycle_year, Some(2029));
        assert_eq!(plan.steps[0].due_at, at("2027-03-02T09:00:00Z"));
    }

    #[test]
    fn errors() {
        let z = zones(UTC, None);
        let now = at("2026-01-01T00:00:00Z");
        let def = definition(dated(false, json!([on("09:00"), email()]), json!({})));
        assert_eq!(
            plan_enrollment(&def, None, &z, now),
            Err(ScheduleError::MissingAnchor)
        );

        let bad_time = definition(dated(
            false,
            json!([on("09:00"), { "type": "branch", "condition": [], "yes": [], "no": [on("9am")] }]),
            json!({}),
        ));
        let err = plan_enrollment(&bad_time, Some(day("2026-05-10")), &z, now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "steps[1].no[0].time_of_day: must be a time HH:MM"
        );

        let bad_window = definition(dated(
            false,
            json!([on("09:00")]),
            json!({ "execution_window": { "days": ["mon"], "start": "17:00", "end": "17:00" } }),
        ));
        let err = plan_enrollment(&bad_window, Some(day("2026-05-10")), &z, now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "settings.execution_window.end: must be after the start time"
        );

        let bad_pause = definition(dated(
            false,
            json!([on("09:00")]),
            json!({ "pause_dates": ["2026-13-01"] }),
        ));
        let err = plan_enrollment(&bad_pause, Some(day("2026-05-10")), &z, now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "settings.pause_dates[0]: must be a date YYYY-MM-DD"
        );
    }

    #[test]
    fn empty_and_all_delay_workflows() {
        let z = zones(UTC, None);
        let now = at("2026-06-01T00:00:00Z");
        let empty = definition(dated(true, json!([]), json!({})));
        let plan = plan_enrollment(&empty, Some(day("2020-05-10")), &z, now).unwrap();
        assert_eq!(
            (plan.steps.len(), plan.next, plan.cycle_year),
            (0, None, Some(2026))
        );
        // Only delays: every step counts as an action; all passed this year → next year.
        let delays = definition(dated(
            true,
            json!([on("09:00"), dd("after", Some(1), None, None)]),
            json!({}),
        ));
        let plan = plan_enrollment(&delays, Some(day("2020-05-10")), &z, now).unwrap();
        assert_eq!((plan.cycle_year, plan.next), (Some(2027), Some(0)));
        // One delay still to come this year: this year's cycle holds.
        let plan = plan_enrollment(&delays, Some(day("2020-05-31")), &z, now).unwrap();
        assert_eq!((plan.cycle_year, plan.next), (Some(2026), Some(1)));
    }

    #[test]
    fn zones_and_serialisation() {
        let def = definition(dated(
            false,
            json!([]),
            json!({ "time_zone": "Europe/Oslo" }),
        ));
        assert_eq!(workflow_zone(&def, New_York), Oslo);
        let def = definition(dated(
            false,
            json!([]),
            json!({ "time_zone": "Mars/Olympus" }),
        ));
        assert_eq!(workflow_zone(&def, New_York), New_York);
        let def = definition(dated(false, json!([]), json!({})));
        assert_eq!(workflow_zone(&def, New_York), New_York);
        assert_eq!(parse_zone(" America/New_York "), Some(New_York));
        assert_eq!(
            serde_json::to_value(StepStatus::SkippedPast).unwrap(),
            json!("skipped_past")
        );
        assert_eq!(StepStatus::Due.as_str(), "due");
    }
}
