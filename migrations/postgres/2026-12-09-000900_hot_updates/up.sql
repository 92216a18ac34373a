-- Room on every page for a contact's new row version: a write of a contact's values moves its
-- "last modified" time (`contacts.updated_at`, in no index), and with free space on the page
-- PostgreSQL makes that a heap-only update that touches none of the table's indexes
-- (measured in the worker, where every set-property action does it). Pages written from now
-- on keep 10 % free; existing ones gain it when rewritten (VACUUM FULL, pg_repack).
ALTER TABLE contacts SET (fillfactor = 90);
