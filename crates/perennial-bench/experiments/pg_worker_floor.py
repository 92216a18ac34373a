#!/usr/bin/env python3
"""The floor of the PostgreSQL worker's writes, without the app (BENCHMARKS.md, session 9).

A set-property action that ends its workflow writes, in the app's worker batch on PostgreSQL:
the claim (here each batch locks its own range of enrollments `FOR UPDATE`, so that
sessions run at once never wait on each other), the contact's value (upsert), its "last modified" time, two contact
events (`property_changed`, `workflow_completed`), two history events (`action_executed`,
`completed`), the step's run record, and the enrollment's end. This script makes a scratch
database with the app's PostgreSQL migrations (through `psql`), fills it with N contacts, a
value each and N active enrollments, then writes exactly those rows for every enrollment, in
transactions of 500 (the worker's batch), each table by one set-based statement, sent by one
`psql` session: no application in between, so what it takes is the server's own work.

    python3 crates/perennial-bench/experiments/pg_worker_floor.py [N] [SESSIONS] [admin-url]

N defaults to 100000, SESSIONS to 1 (with more, the batches are split between that many `psql`
sessions run at once, as several workers would); the URL to
postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
"""
import glob
import os
import subprocess
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
SESSIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
ADMIN = sys.argv[3] if len(sys.argv) > 3 else "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
DB = f"perennial_floor_{os.getpid()}"
URL = ADMIN.replace("/postgres?", f"/{DB}?") if "/postgres?" in ADMIN else ADMIN.rsplit("/", 1)[0] + "/" + DB
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
BATCH = 500


def psql(url, sql=None, path=None):
    cmd = ["psql", "-q", "-v", "ON_ERROR_STOP=1", url]
    cmd += ["-f", path] if path else ["-c", sql]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def fill():
    for up in sorted(glob.glob(os.path.join(ROOT, "migrations", "postgres", "*", "up.sql"))):
        psql(URL, path=up)
    psql(URL, f"""
        INSERT INTO properties (name, label, field_type, created_at)
            VALUES ('bench_status', 'Bench status', 'text', now());
        INSERT INTO workflows (id, name, start_type, definition, created_at, updated_at)
            VALUES (1, 'floor', 'blank', '{{}}', now(), now());
        INSERT INTO contacts (id, email, created_at, updated_at)
            SELECT i, 'c' || i || '@example.com', now(), now() FROM generate_series(1, {N}) i;
        INSERT INTO contact_values (contact_id, property_id, value)
            SELECT i, (SELECT id FROM properties WHERE name = 'bench_status'), 'before'
              FROM generate_series(1, {N}) i;
        INSERT INTO enrollments (id, workflow_id, contact_id, cycle_year, status, revision,
                next_step, next_due_at, enrolled_at)
            SELECT i, 1, i, 2026, 'active', 1, '0', now() - interval '1 minute', now()
              FROM generate_series(1, {N}) i;""")
    # Alone: psql runs a -c string of several statements as one transaction.
    psql(URL, "VACUUM ANALYZE")


def script(session):
    out = []
    for k, lo in enumerate(range(1, N + 1, BATCH)):
        if k % SESSIONS != session:
            continue
        hi = min(lo + BATCH - 1, N)
        out.append(f"""BEGIN;
WITH c AS (SELECT id FROM enrollments WHERE id BETWEEN {lo} AND {hi} AND status = 'active'
             AND next_due_at <= now() ORDER BY id FOR UPDATE)
SELECT count(*) FROM c;
INSERT INTO contact_values (contact_id, property_id, value, num)
  SELECT i, (SELECT id FROM properties WHERE name = 'bench_status'), 'after', NULL
    FROM generate_series({lo}, {hi}) i
  ON CONFLICT (contact_id, property_id) DO UPDATE SET value = EXCLUDED.value, num = EXCLUDED.num;
UPDATE contacts c SET updated_at = now() FROM generate_series({lo}, {hi}) i WHERE c.id = i;
INSERT INTO contact_events (contact_id, name, source, occurred_at, properties, created_at)
  SELECT i, n, 'builtin', now(), '{{"property":"bench_status","old":"before","new":"after"}}', now()
    FROM generate_series({lo}, {hi}) i, (VALUES ('property_changed'), ('workflow_completed')) v(n);
INSERT INTO history_events (workflow_id, enrollment_id, contact_id, at, event, step, detail, revision)
  SELECT 1, i, i, now(), n, '0', 'set bench_status to after', 1
    FROM generate_series({lo}, {hi}) i, (VALUES ('action_executed'), ('completed')) v(n);
INSERT INTO action_runs (enrollment_id, step, state, result, started_at, finished_at)
  SELECT i, '0', 'done', 'set bench_status to after', now(), now() FROM generate_series({lo}, {hi}) i;
UPDATE enrollments e SET status = 'completed', reason = 'all steps done', ended_at = now(),
    next_step = NULL, next_due_at = NULL, lease_until = NULL
  FROM generate_series({lo}, {hi}) i WHERE e.id = i;
COMMIT;""")
    return "\n".join(out)


def main():
    psql(ADMIN, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(ADMIN, f"CREATE DATABASE {DB}")
    try:
        fill()
        paths = []
        for k in range(SESSIONS):
            paths.append(f"/tmp/{DB}_{k}.sql")
            with open(paths[-1], "w") as f:
                f.write(script(k))
        t = time.monotonic()
        runs = [subprocess.Popen(["psql", "-q", "-v", "ON_ERROR_STOP=1", URL, "-f", p],
                                 stdout=subprocess.DEVNULL) for p in paths]
        if any(r.wait() != 0 for r in runs):
            raise SystemExit("a psql session failed")
        s = time.monotonic() - t
        print(f"{N} actions' writes in {s:.2f} s ({N / s:,.0f}/s), batches of {BATCH}, "
              f"{SESSIONS} session(s)")
        for p in paths:
            os.remove(p)
    finally:
        psql(ADMIN, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
