DROP TABLE worker_heartbeats;
ALTER TABLE enrollments DROP COLUMN lease_owner;
