-- kyoyu schema, version 9.
-- Advisory reader rows carry their advisory's time, as report reader rows do (version 3), so
-- an advisory list pages through the reader's own index newest first.
ALTER TABLE advisory_access ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
UPDATE advisory_access SET created_at = (SELECT v.created_at FROM advisories v WHERE v.id = advisory_access.advisory_id);
CREATE INDEX advisory_access_newest ON advisory_access (org_id, created_at DESC, advisory_id DESC);
