//! Read queries for list pages: keyset pagination, no N+1.

use crate::db::DbConnection;
use anyhow::Context;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::sql::{filter, portable};
use super::types::Instant;
use super::Backend;
use crate::domain::filter::Cond;

/// The text `'active'` written into the SQL rather than bound as a parameter, for
/// `enrollments.status`: the partial indexes on `status = 'active'` make SQLite look at a
/// bound value when it plans, so it re-prepares the statement on every new binding (measured:
/// every execution), which defeats diesel's statement cache. With the constant in the text the
/// statement is prepared once per connection. (One type per constant: diesel caches statements
/// by the query's type.)
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct StatusActive;

impl diesel::expression::Expression for StatusActive {
    type SqlType = Text;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for StatusActive {}

impl<QS> diesel::expression::SelectableExpression<QS> for StatusActive {}

impl diesel::expression::ValidGrouping<()> for StatusActive {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for StatusActive {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("'active'");
        Ok(())
    }
}

#[derive(Debug, QueryableByName)]
pub struct IdRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
}

/// One page of contact ids, newest first. `before`: ids below this one (older page);
/// `after`: ids above (newer page). `q`: prefix of email, first name or last name.
pub fn contact_page(
    conn: &mut DbConnection,
    q: Option<&str>,
    name_property_ids: &[i64],
    before: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<i64>> {
    let (cmp, order, cursor) = match (before, after) {
        (_, Some(a)) => (">", "ASC", Some(a)),
        (Some(b), None) => ("<", "DESC", Some(b)),
        (None, None) => ("<", "DESC", None),
    };
    let cursor_sql = match cursor {
        Some(_) => format!("AND id {cmp} ?2"),
        None => "AND ?2 IS NULL".to_string(),
    };
    let mut ids: Vec<i64> = match q.map(str::trim).filter(|q| !q.is_empty()) {
        None => {
            let sql = format!(
                "SELECT id FROM contacts WHERE ?1 IS NULL {cursor_sql} ORDER BY id {order} LIMIT ?3"
            );
            diesel::sql_query(portable::sql(conn, &sql))
                .bind::<Nullable<Text>, _>(None::<String>)
                .bind::<Nullable<BigInt>, _>(cursor)
                .bind::<BigInt, _>(limit)
                .load::<IdRow>(conn)
                .context("listing contacts")?
                .into_iter()
                .map(|r| r.id)
                .collect()
        }
        Some(q) => {
            // Prefix ranges on NOCASE columns use the indexes; char(1114111) is the highest code point.
            let props = name_property_ids
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let props = if props.is_empty() {
                "-1".to_string()
            } else {
                props
            };
            let (sql, pattern) = match Backend::of(conn) {
                // Prefix ranges on NOCASE columns use the indexes; char(1114111) is the
                // highest code point.
                Backend::Sqlite => (
                    format!(
                        "SELECT id FROM (
                            SELECT id FROM contacts WHERE email >= ?1 AND email < ?1 || char(1114111)
                            UNION
                            SELECT contact_id AS id FROM contact_values
                             WHERE property_id IN ({props}) AND value >= ?1 AND value < ?1 || char(1114111)
                         ) WHERE 1 {cursor_sql} ORDER BY id {order} LIMIT ?3"
                    ),
                    q.to_string(),
                ),
                // ASCII-folded prefix under the C collation, which the `lower(…)` indexes
                // answer as a range.
                Backend::Postgres => (
                    portable::dollar_placeholders(&format!(
                        "SELECT id FROM (
                            SELECT id FROM contacts WHERE lower(email COLLATE \"C\") LIKE ?1
                            UNION
                            SELECT contact_id AS id FROM contact_values
                             WHERE property_id IN ({props}) AND lower(value) LIKE ?1
                         ) m WHERE TRUE {cursor_sql} ORDER BY id {order} LIMIT ?3"
                    )),
                    format!("{}%", like_escape(&q.to_ascii_lowercase())),
                ),
            };
            diesel::sql_query(sql)
                .bind::<Nullable<Text>, _>(Some(pattern))
                .bind::<Nullable<BigInt>, _>(cursor)
                .bind::<BigInt, _>(limit)
                .load::<IdRow>(conn)
                .context("searching contacts")?
                .into_iter()
                .map(|r| r.id)
                .collect()
        }
    };
    if order == "ASC" {
        ids.reverse();
    }
    Ok(ids)
}

/// `s` as a literal prefix inside a `LIKE` pattern (PostgreSQL's default escape is `\\`).
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[derive(QueryableByName)]
struct DueCount {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Active enrollments whose next step is due at `now` and that no worker holds (the partial
/// index `enrollments_due` answers it): the `perennial_jobs_due` gauge.
pub fn jobs_due(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<i64> {
    let now = crate::clock::fmt_instant(now);
    Ok(diesel::sql_query(portable::sql(
        conn,
        "SELECT COUNT(*) AS n FROM enrollments WHERE status = 'active' AND next_due_at <= ?1
           AND (lease_until IS NULL OR lease_until < ?1)",
    ))
    .bind::<Instant, _>(now)
    .get_result::<DueCount>(conn)
    .context("counting due jobs")?
    .n)
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many contacts satisfy `cond`, the workflow criteria (review, "See all contacts in
/// lists").
pub fn count_contacts_where(conn: &mut DbConnection, cond: &Cond) -> anyhow::Result<i64> {
    let where_sql = filter::render(cond, filter::dialect(conn));
    Ok(diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM contacts c WHERE {where_sql}"
    ))
    .get_result::<CountRow>(conn)
    .context("counting contacts meeting the criteria")?
    .n)
}

#[derive(QueryableByName)]
struct ValueCountRow {
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The distinct values of property `property_id` among the contacts satisfying `cond`,
/// with how many contacts have each: the anchor dates Review plans once per date rather than
/// once per contact (a century of birthdays is ~36,500 rows whatever the contact count).
pub fn value_counts_where(
    conn: &mut DbConnection,
    property_id: i64,
    cond: &Cond,
) -> anyhow::Result<Vec<(String, i64)>> {
    let where_sql = filter::render(cond, filter::dialect(conn));
    Ok(diesel::sql_query(format!(
        "SELECT dv.value AS value, COUNT(*) AS n FROM contacts c
         JOIN contact_values dv ON dv.contact_id = c.id AND dv.property_id = {property_id}
         WHERE {where_sql} GROUP BY dv.value"
    ))
    .load::<ValueCountRow>(conn)
    .context("counting the contacts' dates")?
    .into_iter()
    .map(|r| (r.value, r.n))
    .collect())
}

/// Adds every contact satisfying `cond` to static list `list_id`, in
/// one statement; returns how many were added.
pub fn add_to_list_where(
    conn: &mut DbConnection,
    list_id: i64,
    cond: &Cond,
    now: &str,
) -> anyhow::Result<usize> {
    let where_sql = filter::render(cond, filter::dialect(conn));
    // `WHERE` before `ON CONFLICT` also keeps SQLite from reading the upsert as a join.
    let sql = format!(
        "INSERT INTO list_members (list_id, contact_id, added_at)
         SELECT {list_id}, c.id, ?1 FROM contacts c WHERE {where_sql}
         ON CONFLICT DO NOTHING"
    );
    diesel::sql_query(portable::sql(conn, &sql))
        .bind::<Instant, _>(now.to_string())
        .execute(conn)
        .context("adding the contacts meeting the criteria to a list")
}

/// How many contacts a workflow enrolled (any cycle) and how many of them met its goal
/// (issue 17): the conversions and the conversion rate of the workflow page.
pub fn conversions(conn: &mut DbConnection, workflow_id: i64) -> anyhow::Result<(i64, i64)> {
    use crate::db::schema::enrollments;
    let enrolled: i64 = enrollments::table
        .filter(enrollments::workflow_id.eq(workflow_id))
        .select(diesel::dsl::count(enrollments::contact_id).aggregate_distinct())
        .get_result(conn)
        .context("counting enrolled contacts")?;
    let converted: i64 = enrollments::table
        .filter(enrollments::workflow_id.eq(workflow_id))
        .filter(enrollments::reason.eq(crate::db::models::enrollment::GOAL_MET))
        .select(diesel::dsl::count(enrollments::contact_id).aggregate_distinct())
        .get_result(conn)
        .context("counting conversions")?;
    Ok((enrolled, converted))
}

#[derive(QueryableByName)]
struct SplitRow {
    #[diesel(sql_type = Text)]
    detail: String,
    #[diesel(sql_type = BigInt)]
    contacts: i64,
    #[diesel(sql_type = BigInt)]
    converted: i64,
}

/// Per path of the random split at `step` (its history words, e.g. `random split: took path
/// “A”` or `… holdout …`): how many contacts took it and how many of them converted — met the
/// goal while enrolled, or meet it now (`goal`; the holdout leaves at once, so its
/// conversions are counted as they stand).
pub fn split_outcomes(
    conn: &mut DbConnection,
    workflow_id: i64,
    step: &str,
    goal: &Cond,
) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let meets = filter::render(goal, filter::dialect(conn));
    let goal_met = crate::db::models::enrollment::GOAL_MET;
    let sql = format!(
        "SELECT h.detail AS detail, COUNT(DISTINCT h.contact_id) AS contacts,
            COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM enrollments x
                    WHERE x.workflow_id = {workflow_id} AND x.contact_id = h.contact_id
                      AND x.reason = '{goal_met}') OR {meets}
                THEN h.contact_id END) AS converted
         FROM history_events h JOIN contacts c ON c.id = h.contact_id
         WHERE h.workflow_id = {workflow_id} AND h.step = ?1 AND h.event = 'action_executed'
           AND h.detail LIKE 'random split:%'
         GROUP BY h.detail ORDER BY h.detail"
    );
    Ok(diesel::sql_query(portable::sql(conn, &sql))
        .bind::<Text, _>(step)
        .load::<SplitRow>(conn)
        .context("comparing the paths of a random split")?
        .into_iter()
        .map(|r| (r.detail, r.contacts, r.converted))
        .collect())
}
