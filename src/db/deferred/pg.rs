//! PostgreSQL: the held rows of a batch, one set-based statement per table.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};

use super::Held;

/// An instant as text PostgreSQL reads the same in any session time zone (`…Z`).
fn utc_text(s: &str) -> String {
    crate::clock::parse_instant(s)
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
        .map(crate::clock::fmt_instant)
        .unwrap_or_else(|| s.to_string())
}

/// `n` new ids of `table` (a table with an identity `id`), taken from its sequence in one
/// statement, ascending. The rows written with them later never collide with rows inserted
/// meanwhile by others, who take theirs from the same sequence.
pub(crate) fn next_ids(c: &mut PgConnection, table: &str, n: i64) -> QueryResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct NewId {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows = diesel::sql_query(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)",
    )
    .bind::<Text, _>(table)
    .bind::<BigInt, _>(n)
    .load::<NewId>(c)?;
    let mut ids: Vec<i64> = rows.into_iter().map(|r| r.id).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// PostgreSQL: one `INSERT … SELECT … FROM unnest(…)` per table, rows in the order held.
pub(super) fn write_pg(c: &mut PgConnection, held: &Held) -> QueryResult<()> {
    // First: history rows refer to these enrollments.
    if !held.enrollments.is_empty() {
        let v = &held.enrollments;
        let at = |t: &Option<String>| t.as_deref().map(utc_text);
        diesel::sql_query(
            "INSERT INTO enrollments (id, workflow_id, contact_id, cycle_year, status, revision,
                 anchor_date, next_step, next_due_at, reason, enrolled_at, ended_at)
             SELECT i, w, c, y, s, r, a::date, st, d::timestamptz, re, en::timestamptz,
                    ed::timestamptz
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::integer[], $5::text[],
                           $6::integer[], $7::text[], $8::text[], $9::text[], $10::text[],
                           $11::text[], $12::text[])
                    WITH ORDINALITY AS u(i, w, c, y, s, r, a, st, d, re, en, ed, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|e| e.id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(v.iter().map(|e| e.row.workflow_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(v.iter().map(|e| e.row.contact_id).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(v.iter().map(|e| e.row.cycle_year).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.row.status).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(v.iter().map(|e| e.row.revision).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(
            v.iter()
                .map(|e| e.row.anchor_date.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            v.iter()
                .map(|e| e.row.next_step.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            v.iter().map(|e| at(&e.row.next_due_at)).collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            v.iter()
                .map(|e| e.row.reason.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(
            v.iter()
                .map(|e| utc_text(&e.row.enrolled_at))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(v.iter().map(|e| at(&e.row.ended_at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.history.is_empty() {
        let h = &held.history;
        diesel::sql_query(
            "INSERT INTO history_events
                (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
             SELECT w, en, c, a::timestamptz, ev, st, d, r
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                           $6::text[], $7::text[], $8::integer[])
                    WITH ORDINALITY AS u(w, en, c, a, ev, st, d, r, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(h.iter().map(|e| e.workflow_id).collect::<Vec<_>>())
        .bind::<Array<Nullable<BigInt>>, _>(h.iter().map(|e| e.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(h.iter().map(|e| e.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(h.iter().map(|e| utc_text(&e.at)).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(h.iter().map(|e| e.event).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(h.iter().map(|e| e.step.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(h.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(h.iter().map(|e| e.revision).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.contact_event_ids.is_empty() {
        // A contact batch's events, each with the id it was held with (`hold_contact_events`).
        let v = &held.contact_events;
        diesel::sql_query(
            "INSERT INTO contact_events (id, contact_id, name, source, occurred_at, properties, created_at)
             SELECT i, c, nm, src, o::timestamptz, p, cr::timestamptz
               FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                    AS u(i, c, nm, src, o, p, cr)
              ORDER BY i",
        )
        .bind::<Array<BigInt>, _>(&held.contact_event_ids)
        .bind::<Array<BigInt>, _>(v.iter().map(|e| e.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.name.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.source).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| utc_text(&e.occurred_at)).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.properties.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| utc_text(&e.created_at)).collect::<Vec<_>>())
        .execute(c)?;
    } else if !held.contact_events.is_empty() {
        // A worker batch's quiet events, numbered by the sequence as they land.
        let v = &held.contact_events;
        diesel::sql_query(
            "INSERT INTO contact_events (contact_id, name, source, occurred_at, properties, created_at)
             SELECT c, nm, src, o::timestamptz, p, cr::timestamptz
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                    WITH ORDINALITY AS u(c, nm, src, o, p, cr, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|e| e.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.name.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.source).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| utc_text(&e.occurred_at)).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| e.properties.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|e| utc_text(&e.created_at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.steps_done.is_empty() {
        let v = &held.steps_done;
        diesel::sql_query(
            "INSERT INTO action_runs (enrollment_id, step, state, result, started_at, finished_at)
             SELECT en, st, 'done', r, a::timestamptz, a::timestamptz
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(en, st, r, a)",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|s| s.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|s| s.step.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|s| s.result.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|s| utc_text(&s.at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.outbox.is_empty() {
        let v = &held.outbox;
        diesel::sql_query(
            "INSERT INTO outbox
                (workflow_id, enrollment_id, contact_id, recipient, subject, body, delivery, created_at)
             SELECT w, en, c, rc, s, b, 'kept', a::timestamptz
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                           $6::text[], $7::text[])
                    WITH ORDINALITY AS u(w, en, c, rc, s, b, a, n)
              ORDER BY n",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.workflow_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| m.recipient.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| m.body.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|m| utc_text(&m.created_at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.touches.is_empty() {
        let v = &held.touches;
        // A contact touched twice keeps the later time (one row per contact in the join).
        diesel::sql_query(
            "UPDATE contacts c SET updated_at = u.t::timestamptz
               FROM (SELECT id, max(t) AS t FROM unnest($1::bigint[], $2::text[]) AS u(id, t)
                      GROUP BY id) AS u
              WHERE c.id = u.id",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|t| t.contact_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|t| utc_text(&t.at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.values.is_empty() {
        // One row per (contact, property), its last value: the same end as the writes made one
        // by one in order (an insert, then updates of it).
        let mut last: std::collections::HashMap<(i64, i64), usize> =
            std::collections::HashMap::with_capacity(held.values.len());
        for (i, v) in held.values.iter().enumerate() {
            last.insert((v.contact_id, v.property_id), i);
        }
        let mut rows: Vec<usize> = last.into_values().collect();
        // In key order: concurrent batches then lock rows in one order.
        rows.sort_unstable_by_key(|&i| (held.values[i].contact_id, held.values[i].property_id));
        let v: Vec<&super::ValueWrite> = rows.iter().map(|&i| &held.values[i]).collect();
        diesel::sql_query(
            "INSERT INTO contact_values (contact_id, property_id, value, num)
             SELECT c, p, v, n FROM unnest($1::bigint[], $2::bigint[], $3::text[],
                                           $4::double precision[]) AS u(c, p, v, n)
             ON CONFLICT (contact_id, property_id)
             DO UPDATE SET value = EXCLUDED.value, num = EXCLUDED.num",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|w| w.contact_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(v.iter().map(|w| w.property_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|w| w.value.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<diesel::sql_types::Double>>, _>(
            v.iter().map(|w| w.num).collect::<Vec<_>>(),
        )
        .execute(c)?;
    }
    if !held.moves.is_empty() {
        let v = &held.moves;
        let at = |t: &Option<String>| t.as_deref().map(utc_text);
        diesel::sql_query(
            "UPDATE enrollments e
                SET next_step = u.st, next_due_at = u.d::timestamptz, lease_until = NULL,
                    lease_owner = NULL, attempts = 0, last_run_at = u.l::timestamptz
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, st, d, l)
              WHERE e.id = u.id",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|m| m.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(v.iter().map(|m| m.step.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(v.iter().map(|m| at(&m.due)).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(v.iter().map(|m| at(&m.last_run_at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    if !held.finishes.is_empty() {
        let v = &held.finishes;
        diesel::sql_query(
            "UPDATE enrollments e
                SET status = u.s, reason = u.r, ended_at = u.a::timestamptz, next_step = NULL,
                    next_due_at = NULL, lease_until = NULL
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, s, r, a)
              WHERE e.id = u.id",
        )
        .bind::<Array<BigInt>, _>(v.iter().map(|f| f.enrollment_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|f| f.status).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|f| f.reason.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(v.iter().map(|f| utc_text(&f.at)).collect::<Vec<_>>())
        .execute(c)?;
    }
    Ok(())
}
