-- Several worker processes (issue 15). `lease_owner` names the worker holding an external
-- action's lease, so a presumed-dead worker's late write is fenced off; `worker_heartbeats`
-- has one row per live worker process, read by /readyz and the Workflows page.
ALTER TABLE enrollments ADD COLUMN lease_owner TEXT;

CREATE TABLE worker_heartbeats (
    worker_id TEXT PRIMARY KEY NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    beat_at TEXT NOT NULL
);
