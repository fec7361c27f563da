-- kyoyu schema, version 4: STIX objects and TAXII collections (issue #6).
-- Every version of every object is one row. Objects made from a report or an advisory are read
-- through that item's reader rows; objects brought in from outside carry their own audience,
-- set by the policy from their TLP marking. Pages walk (collection, date_added, seq).
CREATE TABLE stix_objects (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    collection       TEXT NOT NULL,
    stix_id          TEXT NOT NULL,
    type             TEXT NOT NULL,
    spec_version     TEXT NOT NULL,
    version          TEXT NOT NULL,
    date_added       TEXT NOT NULL,
    tlp              TEXT,
    body             TEXT NOT NULL,
    report_id        TEXT REFERENCES reports(id),
    advisory_id      TEXT REFERENCES advisories(id),
    -- The organisation that brought it in; versions and deletion are per owner.
    owner_org_id     TEXT REFERENCES orgs(id),
    -- Outside objects: NULL = every organisation; else this organisation (and user) only.
    audience_org_id  TEXT REFERENCES orgs(id),
    audience_user_id TEXT REFERENCES users(id),
    need_to_know     INTEGER NOT NULL,
    latest           INTEGER NOT NULL
);
CREATE INDEX stix_by_added ON stix_objects (collection, date_added, seq);
CREATE INDEX stix_latest_by_added ON stix_objects (collection, latest, date_added, seq);
CREATE INDEX stix_by_id ON stix_objects (collection, stix_id, version);
CREATE INDEX stix_by_report ON stix_objects (report_id);
CREATE INDEX stix_by_advisory ON stix_objects (advisory_id);

-- Observable values an object names, for correlation.
CREATE TABLE stix_values (
    value TEXT NOT NULL,
    seq   INTEGER NOT NULL REFERENCES stix_objects(seq) ON DELETE CASCADE,
    PRIMARY KEY (value, seq)
);
CREATE INDEX stix_values_seq ON stix_values (seq);

-- TAXII status resources: the outcome of one POST of objects.
CREATE TABLE taxii_status (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    collection TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- JSON: {"successes": [...], "failures": [...]}
    outcome    TEXT NOT NULL
);
