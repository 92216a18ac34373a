-- Hardening (issue 16): the same effect as the SQLite migration of the same name.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

ALTER TABLE api_tokens ADD COLUMN user_id bigint REFERENCES users(id) ON DELETE CASCADE;
UPDATE api_tokens SET user_id = (SELECT MIN(id) FROM users);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE user_sessions (
    id_hash text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    seen_at timestamptz NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions(user_id);

ALTER TABLE import_jobs ADD COLUMN owner text;
ALTER TABLE import_jobs ADD COLUMN beat_at timestamptz;

CREATE TABLE import_files (
    job_id bigint PRIMARY KEY REFERENCES import_jobs(id) ON DELETE CASCADE,
    content_b64 text NOT NULL
);

CREATE TABLE import_changes (
    job_id bigint NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    contact_id bigint NOT NULL,
    created boolean NOT NULL DEFAULT false,
    before_values text NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, contact_id)
);
