//! Fixed-text statements that stay prepared.
//!
//! Diesel never caches an `UPDATE`, an upsert or a `sql_query` in its prepared-statement cache
//! (their text may vary with the values, so it plays safe), which made every such statement on
//! the worker's and the write path's hot loops a fresh parse and plan: about an eighth of the
//! worker's time. A [`Fixed`] statement (made with [`fixed_sql!`]) has one text for all values
//! and a type of its own, so diesel caches it by that type, never even rebuilding the text to
//! look it up: every call after the first only binds and steps.
//!
//! Placeholders are `?` (none inside string literals); each backend's query builder writes its
//! own (`?` on SQLite, `$1`, `$2`… on PostgreSQL), and a statement runs on the connection
//! inside the [`DbConnection`] directly, never re-serialized per call. Instants are bound as
//! [`At`] (a `timestamptz` on PostgreSQL, text on SQLite). Values that the partial indexes on
//! `enrollments.status` depend on are written into the text, not bound: SQLite re-plans a
//! statement whose bound value could change the choice of a partial index, on every binding.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

use super::types::Instant;
use super::DbConnection;

/// One bound value.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Real(Option<f64>),
    /// An instant (`clock::fmt_instant` text).
    At(Option<&'a str>),
}

/// An instant to bind (see [`Param::At`]).
#[derive(Debug, Clone, Copy)]
pub struct At<'a>(pub Option<&'a str>);

impl<'a> At<'a> {
    pub fn some(s: &'a str) -> At<'a> {
        At(Some(s))
    }
}

impl<'a> From<At<'a>> for Param<'a> {
    fn from(v: At<'a>) -> Self {
        Param::At(v.0)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::Text(v)
    }
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}

impl From<Option<f64>> for Param<'_> {
    fn from(v: Option<f64>) -> Self {
        Param::Real(v)
    }
}

/// A statement with a fixed text and its values, executed through diesel's statement cache.
/// `Q` is a type of the statement's own (see [`fixed_sql!`]): the cache's key.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<'a, Q> {
    sql: &'static str,
    /// The text split at its placeholders, once per statement (diesel walks the statement on
    /// every execution, and searching the text each time showed in the worker's profile).
    pieces: &'static [&'static str],
    params: &'a [Param<'a>],
    key: std::marker::PhantomData<Q>,
}

impl<'a, Q: 'static> Fixed<'a, Q> {
    /// Use [`fixed_sql!`], which gives every statement its own key type.
    #[doc(hidden)]
    pub fn keyed(
        sql: &'static str,
        pieces: &'static [&'static str],
        params: &'a [Param<'a>],
    ) -> Fixed<'a, Q> {
        Fixed {
            sql,
            pieces,
            params,
            key: std::marker::PhantomData,
        }
    }

    /// Runs it on the backend's own connection; returns the number of rows changed.
    pub fn execute(self, conn: &mut DbConnection) -> QueryResult<usize> {
        match conn {
            DbConnection::Sqlite(c) => RunQueryDsl::execute(self, c),
            DbConnection::Postgres(c) => RunQueryDsl::execute(self, c),
        }
    }
}

/// `fixed_sql!("UPDATE t SET a = ? WHERE id = ?", [a, id])`: a [`Fixed`] statement whose cache
/// key is a type declared right here, so two statements can never share a cache entry.
#[macro_export]
macro_rules! fixed_sql {
    ($sql:literal, [$($param:expr),* $(,)?] $(,)?) => {
        $crate::fixed_sql!(@made $sql, [$($crate::db::prepared::Param::from($param)),*])
    };
    // The values already made (`[Param; N]`), e.g. by a function shared with a multi-row twin.
    (@made $sql:literal, $params:expr) => {{
        #[derive(Debug, Clone, Copy)]
        struct ThisStatement;
        static PIECES: ::std::sync::OnceLock<::std::vec::Vec<&'static str>> =
            ::std::sync::OnceLock::new();
        $crate::db::prepared::Fixed::<ThisStatement>::keyed(
            $sql,
            PIECES.get_or_init(|| $sql.split('?').collect()),
            &$params,
        )
    }};
    ($sql:literal, $params:expr $(,)?) => {
        $crate::fixed_sql!(@made $sql, $params)
    };
}

/// The text of a multi-row insert, built once: `head` followed by `rows` copies of `row`
/// (`"(?, ?, …)"`), joined by commas. Made by [`repeated_sql!`], which keeps one per call site.
#[derive(Debug)]
pub struct Repeated {
    sql: &'static str,
    pieces: &'static [&'static str],
}

impl Repeated {
    /// Builds the text; it lives as long as the process (one per statement, like a literal).
    pub fn new(head: &str, row: &str, rows: usize) -> Repeated {
        let text = format!("{head} {}", vec![row; rows].join(", "));
        let sql: &'static str = Box::leak(text.into_boxed_str());
        let pieces: &'static [&'static str] =
            Box::leak(sql.split('?').collect::<Vec<_>>().into_boxed_slice());
        Repeated { sql, pieces }
    }

    #[doc(hidden)]
    pub fn bind<'a, Q: 'static>(&'static self, params: &'a [Param<'a>]) -> Fixed<'a, Q> {
        Fixed::keyed(self.sql, self.pieces, params)
    }
}

/// `repeated_sql!("INSERT INTO t (a, b) VALUES", "(?, ?)", ROWS, &params)`: a [`Fixed`]
/// multi-row insert of `ROWS` rows (a constant at each call site: the text is built on the
/// first call and the statement cached under a key type of its own, as [`fixed_sql!`] does).
#[macro_export]
macro_rules! repeated_sql {
    ($head:literal, $row:literal, $rows:expr, $params:expr $(,)?) => {{
        #[derive(Debug, Clone, Copy)]
        struct ThisStatement;
        static TEXT: ::std::sync::OnceLock<$crate::db::prepared::Repeated> =
            ::std::sync::OnceLock::new();
        TEXT.get_or_init(|| $crate::db::prepared::Repeated::new($head, $row, $rows))
            .bind::<ThisStatement>($params)
    }};
}

impl<Q: 'static> QueryId for Fixed<'_, Q> {
    type QueryId = Q;
    const HAS_STATIC_QUERY_ID: bool = true;
}

macro_rules! fixed_for_backend {
    ($backend:ty, $conn:ty) => {
        impl<Q> QueryFragment<$backend> for Fixed<'_, Q> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                let Some((first, rest)) = self.pieces.split_first() else {
                    return Ok(());
                };
                if rest.len() != self.params.len() {
                    return Err(diesel::result::Error::QueryBuilderError(
                        format!(
                            "`{}` takes {} values, {} given",
                            self.sql,
                            rest.len(),
                            self.params.len()
                        )
                        .into(),
                    ));
                }
                out.push_sql(first);
                for (piece, param) in rest.iter().zip(self.params) {
                    match param {
                        Param::Text(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                        Param::Int(v) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                        Param::Real(v) => out.push_bind_param::<Nullable<Double>, _>(v)?,
                        Param::At(v) => out.push_bind_param::<Nullable<Instant>, _>(v)?,
                    }
                    out.push_sql(piece);
                }
                Ok(())
            }
        }

        impl<Q> RunQueryDsl<$conn> for Fixed<'_, Q> {}
    };
}

fixed_for_backend!(Sqlite, SqliteConnection);
fixed_for_backend!(Pg, PgConnection);

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::Connection;

    fn memory() -> DbConnection {
        DbConnection::Sqlite(SqliteConnection::establish(":memory:").expect("memory db"))
    }

    #[test]
    fn binds_values_in_order_and_counts_changed_rows() {
        let mut conn = memory();
        conn.batch_execute(
            "CREATE TABLE t (a TEXT, b INTEGER, c REAL);
             INSERT INTO t VALUES ('x', 1, NULL), ('y', 2, NULL);",
        )
        .expect("schema");
        let n = crate::fixed_sql!(
            "UPDATE t SET a = ?, c = ? WHERE b = ?",
            ["z", Some(1.5), 2i64]
        )
        .execute(&mut conn)
        .expect("update");
        assert_eq!(n, 1);
        let none = crate::fixed_sql!("UPDATE t SET a = ? WHERE b = ?", [None::<&str>, 9i64])
            .execute(&mut conn)
            .expect("update nothing");
        assert_eq!(none, 0);
    }

    #[test]
    fn a_wrong_number_of_values_is_an_error_not_a_panic() {
        let mut conn = memory();
        conn.batch_execute("CREATE TABLE t (a TEXT)")
            .expect("schema");
        assert!(crate::fixed_sql!("UPDATE t SET a = ?", [])
            .execute(&mut conn)
            .is_err());
        assert!(crate::fixed_sql!("UPDATE t SET a = 'x'", ["y"])
            .execute(&mut conn)
            .is_err());
    }
}
