DROP INDEX IF EXISTS outbox_by_contact;
