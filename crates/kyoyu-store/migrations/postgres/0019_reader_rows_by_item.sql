-- kyoyu schema, version 19 (issue #12).
-- A rendition's reader rows were kept in three orders: by organisation and rendition (the
-- primary key), by rendition, and by organisation and time (lists). The first landed each new
-- row on a random page inside its organisation's range. Now a rendition's readers are unique
-- by rendition and organisation (the index that finds them anyway), and lists keep their
-- index by organisation and time.
-- No foreign keys on reader rows or notifications, as for stix_backlog: each key check locks
-- its parent row (SELECT ... FOR KEY SHARE), several per report in the hot write, while these
-- rows are written only from the policy's grants and the cached reference data, in the batch
-- that writes their item.
ALTER TABLE report_access DROP CONSTRAINT report_access_pkey;
ALTER TABLE report_access DROP CONSTRAINT report_access_org_id_fkey;
ALTER TABLE report_access DROP CONSTRAINT report_access_report_id_fkey;
DROP INDEX report_access_report;
CREATE UNIQUE INDEX report_access_report ON report_access (report_id, org_id);
ALTER TABLE notifications DROP CONSTRAINT notifications_user_id_fkey;
