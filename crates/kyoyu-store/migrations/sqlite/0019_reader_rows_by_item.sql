-- kyoyu schema, version 19 (issue #12).
-- A rendition's reader rows were kept in three orders: by organisation and rendition (the
-- primary key), by rendition, and by organisation and time (lists). The first landed each new
-- row on a random page inside its organisation's range, a page written to disk per reader per
-- report. Now a rendition's readers are unique by rendition and organisation (the index that
-- finds them anyway), and lists keep their index by organisation and time.
-- No foreign keys, as for stix_backlog: the rows are written only from the policy's grants,
-- in the batch that writes their rendition, and on PostgreSQL each key would lock its parent
-- row in the hot write.
CREATE TABLE report_access_by_item (
    org_id       TEXT NOT NULL,
    report_id    TEXT NOT NULL,
    need_to_know INTEGER NOT NULL,
    created_at   TEXT NOT NULL DEFAULT ''
);
INSERT INTO report_access_by_item (org_id, report_id, need_to_know, created_at)
    SELECT org_id, report_id, need_to_know, created_at FROM report_access;
DROP TABLE report_access;
ALTER TABLE report_access_by_item RENAME TO report_access;
CREATE UNIQUE INDEX report_access_report ON report_access (report_id, org_id);
CREATE INDEX report_access_newest ON report_access (org_id, created_at DESC, report_id DESC);
