-- Perennial schema. Instants are UTC text in the fixed format YYYY-MM-DDTHH:MM:SS.sssZ (sorts
-- lexicographically = chronologically); calendar dates are YYYY-MM-DD text.

CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Key/value account settings (time zone, cookie key, ...).
CREATE TABLE app_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE properties (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    -- text | number | date | datetime | enum | bool
    field_type TEXT NOT NULL,
    -- JSON array of option strings for enum properties
    options TEXT NOT NULL DEFAULT '[]',
    builtin INTEGER NOT NULL DEFAULT 0,
    -- the type can never change (Birth date is single-line text, as in HubSpot)
    type_locked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY NOT NULL,
    email TEXT COLLATE NOCASE UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One row per (contact, property) with a value. `value` is the canonical text (dates ISO,
-- numbers as written canonically, bools true/false); `num` mirrors number values for range
-- filters. Both are indexed by property so a filter on any property is an index range scan.
CREATE TABLE contact_values (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    property_id INTEGER NOT NULL REFERENCES properties(id) ON DELETE CASCADE,
    value TEXT NOT NULL COLLATE NOCASE,
    num REAL,
    PRIMARY KEY (contact_id, property_id)
) WITHOUT ROWID;
CREATE INDEX contact_values_by_value ON contact_values(property_id, value, contact_id);
CREATE INDEX contact_values_by_num ON contact_values(property_id, num, contact_id) WHERE num IS NOT NULL;

CREATE TABLE lists (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    source_workflow_id INTEGER,
    created_at TEXT NOT NULL
);

CREATE TABLE list_members (
    list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX list_members_by_contact ON list_members(contact_id, list_id);

CREATE TABLE workflows (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    start_type TEXT NOT NULL,
    -- off | on
    status TEXT NOT NULL DEFAULT 'off',
    revision INTEGER NOT NULL DEFAULT 1,
    -- the current definition, JSON (DESIGN §7)
    definition TEXT NOT NULL,
    enroll_existing INTEGER NOT NULL DEFAULT 0,
    -- progress of the "enroll existing" batch job: idle | running | done
    backfill_state TEXT NOT NULL DEFAULT 'idle',
    backfill_total INTEGER NOT NULL DEFAULT 0,
    backfill_done INTEGER NOT NULL DEFAULT 0,
    published_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE workflow_revisions (
    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    definition TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workflow_id, revision)
);

-- One enrollment record per (workflow, contact, cycle year). The enrollment row is also the job:
-- `next_step` / `next_due_at` point at what runs next, `lease_until` is the worker's claim.
CREATE TABLE enrollments (
    id INTEGER PRIMARY KEY NOT NULL,
    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    -- 0 for workflows that are not date-centred
    cycle_year INTEGER NOT NULL,
    -- active | completed | unenrolled
    status TEXT NOT NULL,
    revision INTEGER NOT NULL,
    anchor_date TEXT,
    -- step path of the next step: "3" or "3/yes/0"
    next_step TEXT,
    next_due_at TEXT,
    lease_until TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    enrolled_at TEXT NOT NULL,
    ended_at TEXT,
    -- the run time of the last executed step (order rule: later steps never run before it)
    last_run_at TEXT
);
-- At most one active enrollment per (workflow, contact); finished cycles stay as history.
CREATE UNIQUE INDEX enrollments_one_active ON enrollments(workflow_id, contact_id) WHERE status = 'active';
CREATE INDEX enrollments_due ON enrollments(next_due_at) WHERE status = 'active';
CREATE INDEX enrollments_by_contact ON enrollments(contact_id, workflow_id);
CREATE INDEX enrollments_by_workflow_status ON enrollments(workflow_id, status);

-- Side effects recorded per (enrollment, step, cycle): the idempotency key of every action.
CREATE TABLE action_runs (
    enrollment_id INTEGER NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    -- started | done | failed
    state TEXT NOT NULL,
    result TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (enrollment_id, step)
) WITHOUT ROWID;

CREATE TABLE history_events (
    id INTEGER PRIMARY KEY NOT NULL,
    workflow_id INTEGER NOT NULL,
    enrollment_id INTEGER,
    contact_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    -- enrolled | scheduled | rescheduled | action_executed | action_failed | skipped | unenrolled | completed
    event TEXT NOT NULL,
    step TEXT,
    detail TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL
);
CREATE INDEX history_by_workflow ON history_events(workflow_id, id);
CREATE INDEX history_by_workflow_contact ON history_events(workflow_id, contact_id, id);
CREATE INDEX history_by_workflow_event ON history_events(workflow_id, event, id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY NOT NULL,
    workflow_id INTEGER,
    enrollment_id INTEGER,
    contact_id INTEGER,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- kept | sent | failed
    delivery TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY NOT NULL,
    workflow_id INTEGER,
    contact_id INTEGER,
    message TEXT NOT NULL,
    read_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY NOT NULL,
    workflow_id INTEGER,
    contact_id INTEGER,
    title TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    due_date TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY NOT NULL,
    filename TEXT NOT NULL,
    -- running | done
    state TEXT NOT NULL,
    total_rows INTEGER NOT NULL DEFAULT 0,
    processed_rows INTEGER NOT NULL DEFAULT 0,
    imported_rows INTEGER NOT NULL DEFAULT 0,
    -- JSON array of {line, reason}
    errors TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    finished_at TEXT
);

INSERT INTO properties (name, label, field_type, options, builtin, type_locked, created_at) VALUES
    ('email', 'Email', 'text', '[]', 1, 1, '2026-01-01T00:00:00.000Z'),
    ('firstname', 'First name', 'text', '[]', 1, 1, '2026-01-01T00:00:00.000Z'),
    ('lastname', 'Last name', 'text', '[]', 1, 1, '2026-01-01T00:00:00.000Z'),
    ('lifecyclestage', 'Lifecycle stage', 'enum',
        '["subscriber","lead","marketingqualifiedlead","salesqualifiedlead","opportunity","customer","evangelist","other"]', 1, 1, '2026-01-01T00:00:00.000Z'),
    ('timezone', 'Time zone', 'text', '[]', 1, 1, '2026-01-01T00:00:00.000Z'),
    ('date_of_birth', 'Birth date', 'text', '[]', 1, 1, '2026-01-01T00:00:00.000Z'),
    ('phone', 'Phone number', 'text', '[]', 1, 0, '2026-01-01T00:00:00.000Z'),
    ('company', 'Company name', 'text', '[]', 1, 0, '2026-01-01T00:00:00.000Z');
