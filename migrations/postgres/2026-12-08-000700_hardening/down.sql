DROP TABLE import_changes;
DROP TABLE import_files;
ALTER TABLE import_jobs DROP COLUMN beat_at;
ALTER TABLE import_jobs DROP COLUMN owner;
DROP TABLE user_sessions;
DROP INDEX api_tokens_user;
ALTER TABLE api_tokens DROP COLUMN user_id;
ALTER TABLE users DROP COLUMN disabled_at;
