DROP INDEX IF EXISTS enrollments_leased;
