-- kyoyu schema, version 3.
-- Lists walk the reader's rows newest first and stop at the page size, so a page costs the
-- same however many items the reader holds: the reader row carries its item's time.
ALTER TABLE report_access ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
UPDATE report_access SET created_at = (SELECT r.created_at FROM reports r WHERE r.id = report_access.report_id);
CREATE INDEX report_access_newest ON report_access (org_id, created_at DESC, report_id DESC);

-- Bumped by every change to who is where (organisations, sectors, rules, dependencies). Writers
-- read it to reuse their cached view of the reference data; on PostgreSQL they hold it shared
-- while they compute readers, so a concurrent change waits for them (and they for it).
CREATE TABLE reference_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO reference_version (id, version) VALUES (1, 1);
