use super::*;
use crate::db::models::history::{self, NewEvent};
use crate::db::scratch::ScratchDb;
use crate::db::Backend;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .expect("count")
        .n
}

fn event(i: usize) -> NewEvent {
    NewEvent {
        workflow_id: 1,
        enrollment_id: Some(i as i64),
        contact_id: 7,
        at: "2026-12-07T09:00:00.000Z".into(),
        event: history::ACTION_EXECUTED,
        step: Some("0".into()),
        detail: format!("{i:03}"),
        revision: 1,
    }
}

fn sqlite() -> (ScratchDb, crate::db::DbPool) {
    let db = ScratchDb::of(Backend::Sqlite).expect("scratch");
    let pool = crate::db::connect(db.url(), 1).expect("pool");
    (db, pool)
}

#[test]
fn held_rows_wait_for_the_flush_and_keep_their_order() {
    let (_db, pool) = sqlite();
    let mut conn = pool.get().expect("connection");
    let scope = Scope::begin();
    // More than one multi-row statement holds, and a remainder.
    for i in 0..(2 * SQLITE_ROWS + 3) {
        history::record(&mut conn, &[event(i)]).expect("record");
    }
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
        0
    );
    flush(&mut conn).expect("flush");
    drop(scope);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
        (2 * SQLITE_ROWS + 3) as i64
    );
    // Ids rise in the order the events were recorded.
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM history_events a JOIN history_events b
               ON a.id < b.id AND a.detail > b.detail"
        ),
        0
    );
}

#[test]
fn a_scope_that_ends_without_a_flush_writes_nothing_and_none_is_held_after_it() {
    let (_db, pool) = sqlite();
    let mut conn = pool.get().expect("connection");
    {
        let _scope = Scope::begin();
        history::record(&mut conn, &[event(1)]).expect("record");
    }
    flush(&mut conn).expect("flush");
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
        0
    );
    // Outside a scope, written at once.
    history::record(&mut conn, &[event(2)]).expect("record");
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
        1
    );
}

#[test]
fn a_batch_of_contact_writes_holds_appends_touches_and_values_until_the_flush() {
    let (_db, pool) = sqlite();
    let mut conn = pool.get().expect("connection");
    conn.batch_execute(
        "INSERT INTO contacts (id, email, created_at, updated_at)
         VALUES (7, 'a@example.com', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
    )
    .expect("contact");
    let _scope = Scope::contact_batch();
    // A scope opened inside it adds to it and leaves it open.
    drop(Scope::begin());
    let touched =
        "SELECT COUNT(*) AS n FROM contacts WHERE updated_at = '2026-12-07T09:00:00.000Z'";
    crate::db::models::contact::Contact::touch(
        &mut conn,
        crate::db::models::ContactId(7),
        "2026-12-07T09:00:00.000Z",
    )
    .expect("touch");
    history::record(&mut conn, &[event(1)]).expect("record");
    assert_eq!(count(&mut conn, touched), 0);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
        0
    );
    flush(&mut conn).expect("flush");
    assert_eq!(count(&mut conn, touched), 1);
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM history_events"),
        1
    );
}

/// A contact, a property and an active enrollment to write to, on either backend.
fn seed(conn: &mut DbConnection) {
    let now = "'2026-01-01T00:00:00.000Z'";
    let sql = format!(
        "INSERT INTO contacts (id, email, created_at, updated_at) VALUES (7, 'a@example.com', {now}, {now});
         INSERT INTO properties (id, name, label, field_type, created_at)
             VALUES (900, 'plan', 'Plan', 'text', {now});
         INSERT INTO workflows (id, name, start_type, definition, created_at, updated_at)
             VALUES (5, 'W', 'blank', '{{}}', {now}, {now});
         INSERT INTO enrollments (id, workflow_id, contact_id, cycle_year, status, revision,
             next_step, next_due_at, enrolled_at)
             VALUES (11, 5, 7, 2026, 'active', 1, '0', {now}, {now});"
    );
    conn.batch_execute(&sql).expect("seed");
}

#[test]
fn held_values_and_ends_are_read_back_in_order_on_both_backends() {
    use crate::db::models::contact::Contact;
    use crate::db::models::enrollment::Enrollment;
    use crate::db::models::{ContactId, EnrollmentId};
    let mut dbs = vec![ScratchDb::of(Backend::Sqlite).expect("scratch")];
    dbs.extend(crate::db::scratch::postgres_if_reachable());
    for db in dbs {
        let pool = crate::db::connect(db.url(), 1).expect("pool");
        let mut conn = pool.get().expect("connection");
        seed(&mut conn);
        let scope = Scope::begin();
        // An insert, then an update of the same value: only the last one counts.
        Contact::put_value(&mut conn, ContactId(7), 900, "basic", None, false).expect("put");
        Contact::put_value(&mut conn, ContactId(7), 900, "gold", None, true).expect("put");
        Enrollment::finish(
            &mut conn,
            EnrollmentId(11),
            crate::db::models::enrollment::COMPLETED,
            "all steps done",
            "2026-12-07T09:00:00.000Z",
        )
        .expect("finish");
        // Held: nothing is written yet.
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM contact_values"),
            0
        );
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM enrollments WHERE status = 'active'"
            ),
            1
        );
        // Reading the values writes what is held first, and so does reading an enrollment.
        let values = Contact::values(&mut conn, ContactId(7)).expect("values");
        assert_eq!(values.get(&900).map(String::as_str), Some("gold"));
        Contact::put_value(&mut conn, ContactId(7), 900, "platinum", None, true).expect("put");
        Enrollment::finish(
            &mut conn,
            EnrollmentId(11),
            crate::db::models::enrollment::UNENROLLED,
            "left",
            "2026-12-07T10:00:00.000Z",
        )
        .expect("finish");
        let e = Enrollment::find(&mut conn, EnrollmentId(11))
            .expect("find")
            .expect("enrollment");
        assert_eq!(e.status, "unenrolled");
        assert_eq!(e.reason.as_deref(), Some("left"));
        assert!(e.next_due_at.is_none());
        // A removal lands after the writes held before it.
        Contact::put_value(&mut conn, ContactId(7), 900, "silver", None, true).expect("put");
        Contact::clear_value(&mut conn, ContactId(7), 900).expect("clear");
        flush(&mut conn).expect("flush");
        drop(scope);
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM contact_values"),
            0
        );
    }
}

#[test]
fn many_held_values_and_ends_land_as_the_single_writes_would() {
    use crate::db::models::contact::Contact;
    use crate::db::models::enrollment::{Enrollment, COMPLETED};
    use crate::db::models::{ContactId, EnrollmentId};
    let mut dbs = vec![ScratchDb::of(Backend::Sqlite).expect("scratch")];
    dbs.extend(crate::db::scratch::postgres_if_reachable());
    // More than two multi-row statements and a remainder.
    let n = 2 * SQLITE_ROWS as i64 + 5;
    for db in dbs {
        let pool = crate::db::connect(db.url(), 1).expect("pool");
        let mut conn = pool.get().expect("connection");
        seed(&mut conn);
        let now = "'2026-01-01T00:00:00.000Z'";
        for i in 0..n {
            conn.batch_execute(&format!(
                "INSERT INTO contacts (id, email, created_at, updated_at) VALUES ({c}, NULL, {now}, {now});
                 INSERT INTO enrollments (id, workflow_id, contact_id, cycle_year, status, revision,
                     next_step, next_due_at, enrolled_at)
                     VALUES ({e}, 5, {c}, 2026, 'active', 1, '0', {now}, {now});",
                c = 100 + i,
                e = 1000 + i
            ))
            .expect("seed");
        }
        let scope = Scope::begin();
        for i in 0..n {
            let c = ContactId(100 + i);
            Contact::put_value(&mut conn, c, 900, "basic", None, false).expect("put");
            Contact::put_value(&mut conn, c, 900, &format!("v{i}"), Some(i as f64), true)
                .expect("put");
            Enrollment::finish(
                &mut conn,
                EnrollmentId(1000 + i),
                COMPLETED,
                "all steps done",
                "2026-12-07T09:00:00.000Z",
            )
            .expect("finish");
        }
        flush(&mut conn).expect("flush");
        drop(scope);
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM contact_values v
                  WHERE v.property_id = 900 AND v.value = 'v' || (v.contact_id - 100)
                    AND v.num = v.contact_id - 100"
            ),
            n
        );
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM enrollments WHERE id >= 1000 AND status = 'completed'
                   AND reason = 'all steps done' AND next_due_at IS NULL AND ended_at IS NOT NULL"
            ),
            n
        );
    }
}

#[test]
fn a_contact_batch_holds_new_enrollments_on_postgres_and_reads_them_back_in_order() {
    use crate::db::models::enrollment::{Enrollment, NewEnrollment, ACTIVE, COMPLETED, UNENROLLED};
    use crate::db::models::{ContactId, EnrollmentId};
    let at = "2026-12-07T09:00:00.000Z";
    let new = NewEnrollment {
        workflow_id: 5,
        contact_id: 7,
        cycle_year: 2026,
        status: ACTIVE,
        revision: 1,
        anchor_date: Some("2026-12-24".into()),
        next_step: Some("0".into()),
        next_due_at: Some("2026-12-20T09:00:00.000Z".into()),
        reason: None,
        enrolled_at: at.into(),
        ended_at: None,
    };
    let active = "SELECT COUNT(*) AS n FROM enrollments WHERE status = 'active'";
    let mut dbs = vec![ScratchDb::of(Backend::Sqlite).expect("scratch")];
    dbs.extend(crate::db::scratch::postgres_if_reachable());
    for db in dbs {
        let pool = crate::db::connect(db.url(), 1).expect("pool");
        let mut conn = pool.get().expect("connection");
        seed(&mut conn);
        let held_here = matches!(*conn, DbConnection::Postgres(_));
        let scope = Scope::contact_batch();
        // The old enrollment ends (written at once in a contact batch), a new one starts.
        Enrollment::finish(&mut conn, EnrollmentId(11), UNENROLLED, "left", at).expect("end");
        let first = Enrollment::insert(&mut conn, &new).expect("insert");
        history::record(
            &mut conn,
            &[NewEvent {
                workflow_id: 5,
                enrollment_id: Some(first.id),
                contact_id: 7,
                at: at.into(),
                event: history::ENROLLED,
                step: None,
                detail: "enrolled".into(),
                revision: 1,
            }],
        )
        .expect("history");
        // PostgreSQL holds the new enrollment (no round trip); SQLite writes it at once.
        assert_eq!(count(&mut conn, active), if held_here { 0 } else { 1 });
        // Reading the contact's enrollments writes what is held first, history after it.
        let mine = Enrollment::memberships_of(&mut conn, ContactId(7)).expect("mine");
        assert!(
            mine.iter().any(|m| m.id.0 == first.id && m.active),
            "{mine:?}"
        );
        assert!(mine.iter().any(|m| m.id.0 == 11 && !m.active), "{mine:?}");
        assert_eq!(count(&mut conn, active), 1);
        // Ended and started again in the same batch: the end lands before the new row.
        Enrollment::finish(&mut conn, EnrollmentId(first.id), COMPLETED, "done", at).expect("end");
        let second = Enrollment::insert(&mut conn, &new).expect("insert");
        assert!(second.id > first.id);
        flush(&mut conn).expect("flush");
        drop(scope);
        assert_eq!(count(&mut conn, active), 1);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM history_events WHERE enrollment_id = {}",
            first.id
        );
        assert_eq!(count(&mut conn, &sql), 1);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM enrollments WHERE id = {} AND status = 'active'
               AND next_due_at IS NOT NULL",
            second.id
        );
        assert_eq!(count(&mut conn, &sql), 1);
    }
}

#[test]
fn held_events_whose_ids_are_read_keep_their_order_in_either_scope() {
    use crate::db::models::event::{ContactEvent, NewContactEvent, BUILTIN};
    let event = |name: &str| NewContactEvent {
        contact_id: 7,
        name: name.into(),
        source: BUILTIN,
        occurred_at: "2026-12-07T09:00:00.000Z".into(),
        properties: "{}".into(),
        created_at: "2026-12-07T09:00:00.000Z".into(),
    };
    let mut dbs = vec![ScratchDb::of(Backend::Sqlite).expect("scratch")];
    dbs.extend(crate::db::scratch::postgres_if_reachable());
    for db in dbs {
        let pool = crate::db::connect(db.url(), 1).expect("pool");
        let mut conn = pool.get().expect("connection");
        seed(&mut conn);
        let held_here = matches!(*conn, DbConnection::Postgres(_));
        // In a contact batch, then in a worker batch: the order holds in both.
        for (round, scope) in [Scope::contact_batch, Scope::begin].iter().enumerate() {
            let before = count(&mut conn, "SELECT COUNT(*) AS n FROM contact_events");
            let scope = scope();
            // A quiet event, one whose id a workflow reads, then another quiet one.
            ContactEvent::insert(&mut conn, &event("first")).expect("quiet");
            let read = ContactEvent::insert_all(&mut conn, &[event("second")]).expect("read");
            ContactEvent::insert(&mut conn, &event("third")).expect("quiet");
            // A contact batch on PostgreSQL holds all three (no write before the flush);
            // elsewhere the held quiet one is written first, then the one whose id is read.
            let stored = count(&mut conn, "SELECT COUNT(*) AS n FROM contact_events") - before;
            let all_held = held_here && round == 0;
            assert_eq!(stored, if all_held { 0 } else { 2 }, "round {round}");
            flush(&mut conn).expect("flush");
            drop(scope);
            let events = ContactEvent::of_contact(&mut conn, 7, None, 3).expect("events");
            let names: Vec<&str> = events.iter().rev().map(|e| e.name.as_str()).collect();
            assert_eq!(
                names,
                ["first", "second", "third"],
                "ids in the order they happened"
            );
            assert_eq!(events[1].id, read[0].id, "the id read is the one stored");
        }
    }
}
