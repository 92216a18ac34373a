-- Hardening (issue 16). Users can be disabled; API tokens belong to a user (existing tokens
-- go to the first user); signed-in sessions live on the server, so signing out (or disabling
-- the user) ends them even for a saved cookie; a CSV import keeps its file and an undo record
-- of each batch it committed, so an import cut off by a crash can be resumed or rolled back.
ALTER TABLE users ADD COLUMN disabled_at TEXT;

ALTER TABLE api_tokens ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
UPDATE api_tokens SET user_id = (SELECT MIN(id) FROM users);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE user_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions(user_id);

ALTER TABLE import_jobs ADD COLUMN owner TEXT;
ALTER TABLE import_jobs ADD COLUMN beat_at TEXT;

CREATE TABLE import_files (
    job_id INTEGER PRIMARY KEY NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    content_b64 TEXT NOT NULL
);

CREATE TABLE import_changes (
    job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL,
    created INTEGER NOT NULL DEFAULT 0,
    before_values TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, contact_id)
);
