//! The two column types whose storage differs by backend, with one Rust face: a `String`.
//!
//! * [`Instant`]: a moment, written and read as the fixed-width UTC text of
//!   `clock::fmt_instant` (`2026-11-28T12:00:00.000Z`, so text order is time order). SQLite
//!   stores that text; PostgreSQL stores a `timestamptz`.
//! * [`Day`]: a calendar date, `YYYY-MM-DD`. SQLite stores the text; PostgreSQL a `date`.
//!
//! Keeping the Rust side a `String` means models, the engine and the pages read the same
//! values whichever backend serves them, while each database keeps its native type (and
//! PostgreSQL's indexes, comparisons and `now()` work on real times). Conversion happens only
//! here, at the edge. A text that is not an instant (or a date) is refused when bound on
//! PostgreSQL, never silently stored.
//!
//! In queries, values go in as [`Ts`] / [`DayText`] (`Option<Ts>` for a nullable column);
//! a raw statement binds a `String` as `Instant`. `str` binds only on the concrete backends
//! (the multi-backend bind collector takes sized values).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, Nullable, SqlType, Text};
use diesel::sqlite::Sqlite;
use std::io::Write;

use super::MultiBackend;

/// A moment in time (see the module docs).
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Instant;

/// A calendar date (see the module docs).
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1082, array_oid = 1182))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Day;

/// An instant to write or compare in a query (`column.eq(Ts::of(now))`): the text of
/// `clock::fmt_instant`. (Diesel's coherence rules keep a plain `&str` from standing for a
/// column type of this crate's own, so values cross into queries in this wrapper.)
#[derive(Debug, Clone, PartialEq, Eq, diesel::AsExpression)]
#[diesel(sql_type = Instant)]
pub struct Ts(pub String);

impl From<&str> for Ts {
    fn from(s: &str) -> Ts {
        Ts(s.to_string())
    }
}

impl From<String> for Ts {
    fn from(s: String) -> Ts {
        Ts(s)
    }
}

impl From<&String> for Ts {
    fn from(s: &String) -> Ts {
        Ts(s.clone())
    }
}

impl From<&str> for DayText {
    fn from(s: &str) -> DayText {
        DayText(s.to_string())
    }
}

impl From<String> for DayText {
    fn from(s: String) -> DayText {
        DayText(s)
    }
}

impl From<&String> for DayText {
    fn from(s: &String) -> DayText {
        DayText(s.clone())
    }
}

impl Ts {
    pub fn of(s: &str) -> Ts {
        Ts(s.to_string())
    }

    /// An optional instant, for a nullable column.
    pub fn opt(s: Option<&str>) -> Option<Ts> {
        s.map(Ts::of)
    }
}

/// A calendar date to write or compare in a query (`YYYY-MM-DD`; see [`Ts`]).
#[derive(Debug, Clone, PartialEq, Eq, diesel::AsExpression)]
#[diesel(sql_type = Day)]
pub struct DayText(pub String);

impl DayText {
    pub fn of(s: &str) -> DayText {
        DayText(s.to_string())
    }

    pub fn opt(s: Option<&str>) -> Option<DayText> {
        s.map(DayText::of)
    }
}

/// An optional instant for a nullable column, where a struct field is `Option<String>`
/// (`#[diesel(serialize_as = OptTs)]` on an `Insertable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptTs(pub Option<String>);

impl From<Option<String>> for OptTs {
    fn from(s: Option<String>) -> OptTs {
        OptTs(s)
    }
}

/// An optional calendar date for a nullable column (see [`OptTs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptDay(pub Option<String>);

impl From<Option<String>> for OptDay {
    fn from(s: Option<String>) -> OptDay {
        OptDay(s)
    }
}

/// PostgreSQL counts from 2000-01-01 (microseconds for `timestamptz`, days for `date`).
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn parse_moment(s: &str) -> Option<DateTime<Utc>> {
    crate::clock::parse_instant(s).or_else(|| {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|n| n.and_utc())
    })
}

// --- PostgreSQL ------------------------------------------------------------------------------

impl ToSql<Instant, Pg> for str {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let t = parse_moment(self).ok_or_else(|| format!("\"{self}\" is not an instant"))?;
        let micros = (t.naive_utc() - pg_epoch())
            .num_microseconds()
            .ok_or("instant out of range")?;
        out.write_all(&micros.to_be_bytes())?;
        Ok(IsNull::No)
    }
}

impl ToSql<Instant, Pg> for String {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Instant, Pg>>::to_sql(self.as_str(), out)
    }
}

impl FromSql<Instant, Pg> for String {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes: [u8; 8] = value
            .as_bytes()
            .try_into()
            .map_err(|_| "a timestamptz is 8 bytes")?;
        let micros = i64::from_be_bytes(bytes);
        let t = pg_epoch() + chrono::Duration::microseconds(micros);
        Ok(crate::clock::fmt_instant(t.and_utc()))
    }
}

impl ToSql<Day, Pg> for str {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let d = NaiveDate::parse_from_str(self, "%Y-%m-%d")
            .map_err(|_| format!("\"{self}\" is not a date"))?;
        let days = (d - pg_epoch().date()).num_days();
        let days = i32::try_from(days).map_err(|_| "date out of range")?;
        out.write_all(&days.to_be_bytes())?;
        Ok(IsNull::No)
    }
}

impl ToSql<Day, Pg> for String {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Day, Pg>>::to_sql(self.as_str(), out)
    }
}

impl FromSql<Day, Pg> for String {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes: [u8; 4] = value
            .as_bytes()
            .try_into()
            .map_err(|_| "a date is 4 bytes")?;
        let d = pg_epoch().date() + chrono::Duration::days(i64::from(i32::from_be_bytes(bytes)));
        Ok(d.format("%Y-%m-%d").to_string())
    }
}

macro_rules! wrapper_to_sql {
    ($wrapper:ty, $ty:ty) => {
        impl ToSql<$ty, Pg> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<$ty, Pg>>::to_sql(self.0.as_str(), out)
            }
        }

        impl ToSql<$ty, Sqlite> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.0.as_str(), out)
            }
        }

        impl ToSql<$ty, MultiBackend> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((<$ty as Default>::default(), &self.0));
                Ok(IsNull::No)
            }
        }
    };
}

wrapper_to_sql!(Ts, Instant);
wrapper_to_sql!(DayText, Day);

macro_rules! optional_wrapper {
    ($wrapper:ty, $ty:ty) => {
        impl diesel::expression::AsExpression<Nullable<$ty>> for $wrapper {
            type Expression = diesel::internal::derives::as_expression::Bound<Nullable<$ty>, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl<'a> diesel::expression::AsExpression<Nullable<$ty>> for &'a $wrapper {
            type Expression = diesel::internal::derives::as_expression::Bound<Nullable<$ty>, Self>;
            fn as_expression(self) -> Self::Expression {
                diesel::internal::derives::as_expression::Bound::new(self)
            }
        }

        impl ToSql<Nullable<$ty>, Pg> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                match &self.0 {
                    Some(s) => <str as ToSql<$ty, Pg>>::to_sql(s.as_str(), out),
                    None => Ok(IsNull::Yes),
                }
            }
        }

        impl ToSql<Nullable<$ty>, Sqlite> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                match &self.0 {
                    Some(s) => <str as ToSql<Text, Sqlite>>::to_sql(s.as_str(), out),
                    None => Ok(IsNull::Yes),
                }
            }
        }

        impl ToSql<Nullable<$ty>, MultiBackend> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                match &self.0 {
                    Some(s) => {
                        out.set_value((<$ty as Default>::default(), s));
                        Ok(IsNull::No)
                    }
                    None => Ok(IsNull::Yes),
                }
            }
        }
    };
}

optional_wrapper!(OptTs, Instant);
optional_wrapper!(OptDay, Day);

// --- SQLite: the text as it is ---------------------------------------------------------------

macro_rules! sqlite_text_type {
    ($ty:ty) => {
        impl ToSql<$ty, Sqlite> for str {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self, out)
            }
        }

        impl ToSql<$ty, Sqlite> for String {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl FromSql<$ty, Sqlite> for String {
            fn from_sql(
                value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                <String as FromSql<Text, Sqlite>>::from_sql(value)
            }
        }
    };
}

sqlite_text_type!(Instant);
sqlite_text_type!(Day);

// --- Both, through `DbConnection` ------------------------------------------------------------

macro_rules! multi_type {
    ($ty:ty) => {
        impl HasSqlType<$ty> for MultiBackend {
            fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
                MultiBackend::lookup_sql_type::<$ty>(lookup)
            }
        }

        impl FromSql<$ty, MultiBackend> for String {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<String, $ty>()
            }
        }

        impl ToSql<$ty, MultiBackend> for String {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((<$ty as Default>::default(), self));
                Ok(IsNull::No)
            }
        }
    };
}

multi_type!(Instant);
multi_type!(Day);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_epoch_is_2000_01_01() {
        assert_eq!(pg_epoch().to_string(), "2000-01-01 00:00:00");
    }

    #[test]
    fn instants_parse_in_the_stored_and_the_sql_spelling() {
        for s in [
            "2026-11-28T12:00:00.000Z",
            "2026-11-28T13:00:00+01:00",
            "2026-11-28 12:00:00",
        ] {
            assert_eq!(
                parse_moment(s).map(crate::clock::fmt_instant).as_deref(),
                Some("2026-11-28T12:00:00.000Z"),
                "{s}"
            );
        }
        assert_eq!(parse_moment("soon"), None);
    }
}
