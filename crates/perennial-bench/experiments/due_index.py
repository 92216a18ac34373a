#!/usr/bin/env python3
"""What inserting a million enrollments costs, index by index (BENCHMARKS.md, session 8).

Publish-time enrollment inserts contacts in id order, 100,000 per transaction. This script
inserts the same shape of rows into the `enrollments` table of the SQLite schema (its indexes
as in migrations/sqlite) with Python's sqlite3 module, once per variant: every index; without
`enrollments_due` (over `next_due_at`, which contacts in id order fill in random order);
without any secondary index; one transaction instead of ten; rows sorted by due time.

    python3 crates/perennial-bench/experiments/due_index.py [rounds]
"""
import os
import random
import sqlite3
import sys
import tempfile
import time

SCHEMA = """
PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
CREATE TABLE src (id INTEGER PRIMARY KEY, due TEXT NOT NULL);
CREATE TABLE enrollments (id INTEGER PRIMARY KEY NOT NULL, workflow_id INTEGER NOT NULL,
  contact_id INTEGER NOT NULL, cycle_year INTEGER NOT NULL, status TEXT NOT NULL,
  revision INTEGER NOT NULL, anchor_date TEXT, next_step TEXT, next_due_at TEXT,
  lease_until TEXT, attempts INTEGER NOT NULL DEFAULT 0, reason TEXT, enrolled_at TEXT NOT NULL,
  ended_at TEXT, last_run_at TEXT, lease_owner TEXT);
CREATE UNIQUE INDEX enrollments_one_active ON enrollments(workflow_id, contact_id) WHERE status = 'active';
CREATE INDEX enrollments_due ON enrollments(next_due_at) WHERE status = 'active';
CREATE INDEX enrollments_by_contact ON enrollments(contact_id, workflow_id);
CREATE INDEX enrollments_by_workflow_status ON enrollments(workflow_id, status);
CREATE INDEX enrollments_leased ON enrollments(lease_until) WHERE lease_until IS NOT NULL;
"""
SECONDARY = ["enrollments_one_active", "enrollments_due", "enrollments_by_contact",
             "enrollments_by_workflow_status", "enrollments_leased"]
N = 1_000_000


def run(drop=(), batch=100_000, order="s.id"):
    with tempfile.TemporaryDirectory() as d:
        c = sqlite3.connect(os.path.join(d, "e.db"), isolation_level=None)
        c.executescript(SCHEMA)
        for name in drop:
            c.execute(f"DROP INDEX {name}")
        rnd = random.Random(1)
        rows = []
        for i in range(1, N + 1):
            day = rnd.randrange(365 * 3)
            rows.append((i, "%04d-%02d-%02dT09:00:00.000Z" % (2027 + day // 365, 1 + day % 12, 1 + day % 28)))
        c.execute("BEGIN")
        c.executemany("INSERT INTO src VALUES (?, ?)", rows)
        c.execute("COMMIT")
        t = time.time()
        for lo in range(0, N, batch):
            c.execute("BEGIN")
            c.execute(
                "INSERT INTO enrollments (workflow_id, contact_id, cycle_year, status, revision,"
                " anchor_date, next_step, next_due_at, enrolled_at)"
                " SELECT 7, s.id, 2027, 'active', 1, '2020-01-01', '0', s.due,"
                " '2026-12-07T12:00:00.000Z' FROM src s"
                f" WHERE s.id > {lo} AND s.id <= {lo + batch} ORDER BY {order}")
            c.execute("COMMIT")
        secs = time.time() - t
        c.close()
        return secs


VARIANTS = [
    ("every index (as the app)", {}),
    ("without enrollments_due", {"drop": ["enrollments_due"]}),
    ("without any secondary index", {"drop": SECONDARY}),
    ("every index, one transaction", {"batch": N}),
    ("every index, rows sorted by due time", {"order": "s.due"}),
]

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    print(f"sqlite {sqlite3.sqlite_version}; {N} enrollments, seconds per round")
    for name, kw in VARIANTS:
        times = [run(**kw) for _ in range(rounds)]
        print(f"{name:40} " + "  ".join(f"{t:6.2f}" for t in times), flush=True)
