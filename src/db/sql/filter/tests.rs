//! The SQL face against the Rust face, on the fixtures of `domain::filter`: every hand-checked
//! case, every pair of cases AND-ed and OR-ed, and hostile text, run on a real database:
//! SQLite, and PostgreSQL (a scratch database on the local server; skipped without one unless
//! `CI` is set), so both backends give every filter the same answer.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::{PgConnection, SqliteConnection};
use serde_json::{json, Value};

use super::*;
use crate::db::scratch::{self, ScratchDb};
use crate::db::sql::portable;
use crate::db::{Backend, DbConnection};
use crate::domain::definition::Filter;
use crate::domain::filter::fixtures::*;
use crate::domain::filter::{compile_filter, compile_groups, FilterPart, EMAIL_PROPERTY};

const SQLITE_SCHEMA: &str = "
    CREATE TABLE contacts (id INTEGER PRIMARY KEY NOT NULL,
        email TEXT COLLATE NOCASE UNIQUE, created_at TEXT, updated_at TEXT);
    CREATE TABLE contact_values (contact_id INTEGER NOT NULL, property_id INTEGER NOT NULL,
        value TEXT NOT NULL COLLATE NOCASE, num REAL,
        PRIMARY KEY (contact_id, property_id)) WITHOUT ROWID;
    CREATE INDEX contact_values_by_value ON contact_values(property_id, value, contact_id);
    CREATE INDEX contact_values_by_num ON contact_values(property_id, num, contact_id)
        WHERE num IS NOT NULL;
    CREATE TABLE list_members (list_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
        PRIMARY KEY (list_id, contact_id)) WITHOUT ROWID;
    CREATE INDEX list_members_by_contact ON list_members(contact_id, list_id);";

const POSTGRES_SCHEMA: &str = "
    CREATE COLLATION IF NOT EXISTS perennial_nocase
        (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    CREATE TABLE contacts (id bigint PRIMARY KEY, email text COLLATE perennial_nocase UNIQUE,
        created_at timestamptz, updated_at timestamptz);
    CREATE TABLE contact_values (contact_id bigint NOT NULL, property_id bigint NOT NULL,
        value text COLLATE \"C\" NOT NULL, num double precision,
        PRIMARY KEY (contact_id, property_id));
    CREATE INDEX contact_values_by_lower ON contact_values(property_id, lower(value));
    CREATE TABLE list_members (list_id bigint NOT NULL, contact_id bigint NOT NULL,
        PRIMARY KEY (list_id, contact_id));";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A database holding the fixture contacts; a PostgreSQL one keeps its scratch database.
struct Db {
    conn: DbConnection,
    _scratch: Option<ScratchDb>,
}

/// The fixture contacts in a fresh database of each backend under test.
fn dbs() -> Vec<Db> {
    let mut out = vec![Db {
        conn: DbConnection::Sqlite(
            SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        ),
        _scratch: None,
    }];
    if let Some(db) = scratch::postgres_if_reachable() {
        let conn = PgConnection::establish(db.url()).expect("connect");
        out.push(Db {
            conn: DbConnection::Postgres(conn),
            _scratch: Some(db),
        });
    }
    for db in &mut out {
        fill(&mut db.conn);
    }
    out
}

fn fill(conn: &mut DbConnection) {
    let schema = match Backend::of(conn) {
        Backend::Sqlite => SQLITE_SCHEMA,
        Backend::Postgres => POSTGRES_SCHEMA,
    };
    conn.batch_execute(schema).expect("schema");
    let cat = catalog();
    for c in contacts() {
        diesel::sql_query(portable::sql(
            conn,
            "INSERT INTO contacts (id, email) VALUES (?, ?)",
        ))
        .bind::<BigInt, _>(c.id)
        .bind::<Nullable<Text>, _>(c.values.get("email").cloned())
        .execute(conn)
        .expect("contact");
        for (name, value) in &c.values {
            if name == EMAIL_PROPERTY {
                continue;
            }
            let p = cat.property(name).expect("fixture property");
            let num = crate::domain::values::numeric_mirror(p.field_type, value);
            diesel::sql_query(portable::sql(
                conn,
                "INSERT INTO contact_values (contact_id, property_id, value, num) VALUES (?, ?, ?, ?)",
            ))
            .bind::<BigInt, _>(c.id)
            .bind::<BigInt, _>(p.id)
            .bind::<Text, _>(value.clone())
            .bind::<Nullable<Double>, _>(num)
            .execute(conn)
            .expect("value");
        }
        for l in &c.lists {
            diesel::sql_query(portable::sql(
                conn,
                "INSERT INTO list_members (list_id, contact_id) VALUES (?, ?)",
            ))
            .bind::<BigInt, _>(*l)
            .bind::<BigInt, _>(c.id)
            .execute(conn)
            .expect("member");
        }
    }
}

fn select(conn: &mut DbConnection, expr: &str) -> Vec<i64> {
    diesel::sql_query(format!(
        "SELECT c.id FROM contacts c WHERE {expr} ORDER BY c.id"
    ))
    .load::<Id>(conn)
    .unwrap_or_else(|e| panic!("{expr}: {e}"))
    .into_iter()
    .map(|r| r.id)
    .collect()
}

fn sql_ids(conn: &mut DbConnection, groups: &[Vec<Filter>]) -> Vec<i64> {
    let cond =
        compile_groups(groups, &catalog(), today()).unwrap_or_else(|e| panic!("{groups:?}: {e}"));
    select(conn, &render(&cond, dialect(conn)))
}

fn one(filter: Filter, dialect: Dialect) -> String {
    let p = compile_filter(&filter, &catalog(), today()).expect("valid filter");
    render(&Cond::Filter(p), dialect)
}

#[test]
fn each_filter_matches_the_expected_contacts_in_rust_and_sql() {
    for mut db in dbs() {
        let conn = &mut db.conn;
        for (filter, want) in cases() {
            let groups = vec![vec![filter.clone()]];
            assert_eq!(rust_ids(&groups), want, "Rust face: {filter:?}");
            let backend = Backend::of(conn).name();
            assert_eq!(
                sql_ids(conn, &groups),
                want,
                "SQL face on {backend}: {filter:?}"
            );
        }
    }
}

#[test]
fn and_or_combinations_agree() {
    for mut db in dbs() {
        and_or_combinations_agree_on(&mut db.conn);
    }
}

fn and_or_combinations_agree_on(conn: &mut DbConnection) {
    let all: Vec<Filter> = cases().into_iter().map(|(f, _)| f).collect();
    // Every pair as an AND-group and as two OR-groups, plus a few wider shapes.
    for (i, a) in all.iter().enumerate() {
        for b in all.iter().skip(i).step_by(3) {
            for groups in [
                vec![vec![a.clone(), b.clone()]],
                vec![vec![a.clone()], vec![b.clone()]],
            ] {
                assert_eq!(rust_ids(&groups), sql_ids(conn, &groups), "{groups:?}");
            }
        }
    }
    let groups = vec![
        vec![
            f("lifecyclestage", "eq", json!("customer")),
            f("score", "gt", json!(40)),
        ],
        vec![
            f("", "in_list", json!(11)),
            f("email", "known", Value::Null),
        ],
    ];
    assert_eq!(rust_ids(&groups), vec![1, 2, 4, 6]);
    assert_eq!(sql_ids(conn, &groups), vec![1, 2, 4, 6]);
}

#[test]
fn no_groups_and_empty_groups_match_nothing() {
    for mut db in dbs() {
        no_groups_and_empty_groups_match_nothing_on(&mut db.conn);
    }
}

fn no_groups_and_empty_groups_match_nothing_on(conn: &mut DbConnection) {
    let none = compile_groups(&[], &catalog(), today()).expect("compiles");
    assert_eq!(render(&none, Dialect::Sqlite), "0");
    assert_eq!(render(&none, Dialect::Postgres), "FALSE");
    assert_eq!(rust_ids(&[]), Vec::<i64>::new());
    for groups in [vec![vec![]], vec![vec![], vec![]]] {
        assert_eq!(rust_ids(&groups), Vec::<i64>::new());
        assert_eq!(sql_ids(conn, &groups), Vec::<i64>::new());
    }
    let groups = vec![vec![], vec![f("", "in_list", json!(10))]];
    assert_eq!(rust_ids(&groups), vec![1, 2]);
    assert_eq!(sql_ids(conn, &groups), vec![1, 2]);
}

#[test]
fn criteria_beyond_filters_render_and_run() {
    for mut db in dbs() {
        criteria_beyond_filters_render_and_run_on(&mut db.conn);
    }
}

fn criteria_beyond_filters_render_and_run_on(conn: &mut DbConnection) {
    let d = dialect(conn);
    // The built-in "renewal date is known", not in list 11, and not (score > 40).
    let score = compile_filter(&f("score", "gt", json!(40)), &catalog(), today()).expect("ok");
    let cond = Cond::HasValue(5)
        .and(Cond::InAnyList(vec![11]).negate())
        .and(Cond::Filter(score).negate());
    assert_eq!(select(conn, &render(&cond, d)), vec![3]);
    assert_eq!(select(conn, &render(&Cond::TRUE, d)).len(), 6);
    assert_eq!(
        select(conn, &render(&Cond::InAnyList(vec![]), d)),
        Vec::<i64>::new()
    );
    assert_eq!(
        select(conn, &render(&Cond::InAnyList(vec![10, 11]), d)),
        vec![1, 2, 4]
    );
}

#[test]
fn hostile_values_cannot_change_the_query() {
    for mut db in dbs() {
        hostile_values_cannot_change_the_query_on(&mut db.conn);
    }
}

fn hostile_values_cannot_change_the_query_on(conn: &mut DbConnection) {
    let groups = vec![vec![f(
        "firstname",
        "eq",
        json!("'); DROP TABLE contacts; --"),
    )]];
    let cond = compile_groups(&groups, &catalog(), today()).expect("compiles");
    let sql = render(&cond, dialect(conn));
    // PostgreSQL's text comparisons fold the operand to lower case.
    assert!(
        sql.to_ascii_lowercase()
            .contains("'''); drop table contacts; --'"),
        "{sql}"
    );
    assert_eq!(sql_ids(conn, &groups), Vec::<i64>::new());
    assert_eq!(select(conn, "TRUE").len(), 6, "table still there");

    let nul = vec![vec![f("firstname", "eq", json!("a\0b"))]];
    let err = compile_groups(&nul, &catalog(), today()).unwrap_err();
    assert_eq!(err.part, FilterPart::Value);
    let nul = vec![vec![f("firstname", "contains", json!("a\0b"))]];
    assert!(compile_groups(&nul, &catalog(), today()).is_err());
    assert_eq!(literal("it's"), "'it''s'");
    assert_eq!(literal(""), "''");
    assert_eq!(literal("a\0"), "'a'");
}

#[test]
fn sql_has_the_documented_shape() {
    let s = Dialect::Sqlite;
    assert_eq!(
        one(f("lifecyclestage", "eq", json!("Customer")), s),
        "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
         AND v.property_id = 3 AND v.value = 'customer')"
    );
    assert_eq!(
        one(f("firstname", "unknown", Value::Null), s),
        "NOT EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
         AND v.property_id = 2)"
    );
    assert_eq!(
        one(f("score", "gt", json!(3)), s),
        "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
         AND v.property_id = 4 AND v.num > 3.0)"
    );
    assert_eq!(
        one(f("renewal_date", "before", json!("today-30")), s),
        "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
         AND v.property_id = 5 AND v.value < '2026-01-30')"
    );
    assert_eq!(
        one(f("email", "eq", json!("A@b.co")), s),
        "c.email = 'A@b.co'"
    );
    assert_eq!(
        one(f("", "in_list", json!(10)), s),
        "EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = 10 AND m.contact_id = c.id)"
    );
    let groups = vec![
        vec![
            f("", "in_list", json!(10)),
            f("email", "known", Value::Null),
        ],
        vec![f("", "in_list", json!(11))],
    ];
    let sql = render(
        &compile_groups(&groups, &catalog(), today()).expect("ok"),
        s,
    );
    assert!(
        sql.starts_with("((EXISTS") && sql.contains(") OR EXISTS"),
        "{sql}"
    );
}

#[test]
fn postgres_folds_case_explicitly() {
    let p = Dialect::Postgres;
    assert_eq!(
        one(f("email", "eq", json!("A@b.co")), p),
        "lower((c.email COLLATE \"C\")) = 'a@b.co'"
    );
    assert_eq!(
        one(f("firstname", "contains", json!("D")), p),
        "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
         AND v.property_id = 2 AND strpos(lower(v.value), 'd') > 0)"
    );
    assert_eq!(
        one(f("firstname", "neq", json!("Ada")), p),
        "EXISTS (SELECT 1 FROM contact_values v WHERE v.contact_id = c.id \
         AND v.property_id = 2 AND lower(v.value) <> 'ada')"
    );
}
