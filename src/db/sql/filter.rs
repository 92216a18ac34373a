//! The SQL face of contact filters: a [`Cond`] (built by `domain::filter` from a workflow's
//! filter groups, suppression and built-in trigger) rendered as one boolean expression over a
//! contact row aliased `c`, for the backend in use. "Enroll existing", Review's counts and
//! "save as list" run it set-based (`… FROM contacts c WHERE <expr>`).
//!
//! The Rust face (`domain::filter::matches_groups`) and this one must agree on every filter;
//! the tests below run both on the same fixtures, on SQLite (and on PostgreSQL when
//! `PERENNIAL_TEST_BACKEND=postgres`).
//!
//! Every value spliced into the text is a quoted string literal (quotes doubled; operands with
//! a NUL were refused when the filter was compiled) or a finite number; ids are integers.
//!
//! Case: SQLite's `contact_values.value` and `contacts.email` are `COLLATE NOCASE` (ASCII
//! folding), so `=` already ignores case. PostgreSQL's text columns are `COLLATE "C"`, where
//! `lower()` folds ASCII only, so the same meaning is spelled `lower(col) = '<lowered>'`
//! (with an index on `lower(value)` per property).

use crate::domain::filter::{day_end, day_start, Cmp, Cond, Predicate, Test};

/// The SQL dialect a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The dialect of the database behind `conn`.
pub fn dialect(conn: &crate::db::DbConnection) -> Dialect {
    match crate::db::Backend::of(conn) {
        crate::db::Backend::Sqlite => Dialect::Sqlite,
        crate::db::Backend::Postgres => Dialect::Postgres,
    }
}

impl Dialect {
    fn bool(self, v: bool) -> &'static str {
        match (self, v) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
        }
    }
}

/// `cond` as a boolean expression over `contacts c`. Compound expressions come parenthesised,
/// so the result can be combined with `AND`.
pub fn render(cond: &Cond, dialect: Dialect) -> String {
    match cond {
        Cond::All(parts) => join(parts, " AND ", true, dialect),
        Cond::Any(parts) => join(parts, " OR ", false, dialect),
        Cond::Not(inner) => format!("NOT ({})", render(inner, dialect)),
        Cond::Filter(p) => predicate(p, dialect),
        Cond::HasValue(property_id) => format!(
            "EXISTS (SELECT 1 FROM contact_values dv WHERE dv.contact_id = c.id AND dv.property_id = {property_id})"
        ),
        Cond::InAnyList(ids) if ids.is_empty() => dialect.bool(false).to_string(),
        Cond::InAnyList(ids) => format!(
            "EXISTS (SELECT 1 FROM list_members sm WHERE sm.contact_id = c.id AND sm.list_id IN ({}))",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}

fn join(parts: &[Cond], op: &str, empty: bool, dialect: Dialect) -> String {
    match parts {
        [] => dialect.bool(empty).to_string(),
        [one] => render(one, dialect),
        many => format!(
            "({})",
            many.iter()
                .map(|p| render(p, dialect))
                .collect::<Vec<_>>()
                .join(op)
        ),
    }
}

fn predicate(p: &Predicate, dialect: Dialect) -> String {
    // PostgreSQL's email column compares without case through a nondeterministic collation,
    // which substring search refuses: filters read it byte-wise and fold ASCII themselves.
    let email = match dialect {
        Dialect::Sqlite => "c.email",
        Dialect::Postgres => "(c.email COLLATE \"C\")",
    };
    match p {
        Predicate::InList(id) => format!(
            "EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = {id} AND m.contact_id = c.id)"
        ),
        Predicate::Email(Test::Known) => "(c.email IS NOT NULL AND c.email <> '')".into(),
        Predicate::Email(Test::Unknown) => "(c.email IS NULL OR c.email = '')".into(),
        Predicate::Email(Test::TextNe(s)) => format!(
            "({} AND c.email <> '')",
            test(&Test::TextNe(s.clone()), email, "NULL", dialect)
        ),
        Predicate::Email(t) => test(t, email, "NULL", dialect),
        Predicate::Stored { id, test: t, .. } => {
            let base = format!(
                "SELECT 1 FROM contact_values v WHERE v.contact_id = c.id AND v.property_id = {id}"
            );
            match t {
                Test::Known => format!("EXISTS ({base})"),
                Test::Unknown => format!("NOT EXISTS ({base})"),
                t => format!(
                    "EXISTS ({base} AND {})",
                    test(t, "v.value", "v.num", dialect)
                ),
            }
        }
    }
}

/// The comparison on a value column `col` (and its numeric mirror `num`). Stored dates and
/// datetimes are canonical fixed-width text (UTC for datetimes), so text order is time order
/// (on PostgreSQL the columns are `COLLATE "C"`: byte order).
fn test(t: &Test, col: &str, num: &str, dialect: Dialect) -> String {
    let folded = |col: &str| match dialect {
        Dialect::Sqlite => col.to_string(),
        Dialect::Postgres => format!("lower({col})"),
    };
    let lowered = |s: &str| match dialect {
        Dialect::Sqlite => literal(s),
        Dialect::Postgres => literal(&s.to_ascii_lowercase()),
    };
    match t {
        Test::Known => format!("{col} IS NOT NULL"),
        Test::Unknown => format!("{col} IS NULL"),
        Test::TextEq(s) => format!("{} = {}", folded(col), lowered(s)),
        Test::TextNe(s) => format!("{} <> {}", folded(col), lowered(s)),
        Test::Contains(lower) => match dialect {
            Dialect::Sqlite => format!("instr(lower({col}), {}) > 0", literal(lower)),
            Dialect::Postgres => format!("strpos(lower({col}), {}) > 0", literal(lower)),
        },
        Test::Num(cmp, x) => format!("{num} {} {}", op(*cmp), number(*x)),
        Test::Date(cmp, d) => format!(
            "{col} {} {}",
            op(*cmp),
            literal(&d.format("%Y-%m-%d").to_string())
        ),
        Test::DatetimeDay(cmp, d) => {
            let (start, end) = (literal(&day_start(*d)), literal(&day_end(*d)));
            match cmp {
                Cmp::Eq => format!("{col} BETWEEN {start} AND {end}"),
                Cmp::Ne => format!("{col} NOT BETWEEN {start} AND {end}"),
                Cmp::Lt => format!("{col} < {start}"),
                Cmp::Gt => format!("{col} > {end}"),
            }
        }
        Test::Instant(cmp, t) => format!(
            "{col} {} {}",
            op(*cmp),
            literal(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        ),
        Test::DaysBetween { from, to, datetime } => {
            let (a, b) = if *datetime {
                (day_start(*from), day_end(*to))
            } else {
                (
                    from.format("%Y-%m-%d").to_string(),
                    to.format("%Y-%m-%d").to_string(),
                )
            };
            format!("{col} BETWEEN {} AND {}", literal(&a), literal(&b))
        }
        // Characters 6–10 of a stored date or datetime are its month and day.
        Test::MonthDayIn(ranges) if ranges.is_empty() => dialect.bool(false).to_string(),
        Test::MonthDayIn(ranges) => format!(
            "({})",
            ranges
                .iter()
                .map(|(a, b)| format!(
                    "substr({col}, 6, 5) BETWEEN {} AND {}",
                    literal(a),
                    literal(b)
                ))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
    }
}

fn op(cmp: Cmp) -> &'static str {
    match cmp {
        Cmp::Eq => "=",
        Cmp::Ne => "<>",
        Cmp::Lt => "<",
        Cmp::Gt => ">",
    }
}

/// A SQL string literal: single quotes doubled. A NUL (refused when the filter was compiled,
/// so never seen here) is dropped rather than passed to a backend that would cut the text.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\0', "").replace('\'', "''"))
}

/// A SQL numeric literal from a finite f64 (Rust's round-trip formatting: `3.0`, `-0.5`,
/// `1e20`), which both backends read as a number.
fn number(x: f64) -> String {
    debug_assert!(x.is_finite());
    format!("{x:?}")
}

#[cfg(test)]
mod tests;
