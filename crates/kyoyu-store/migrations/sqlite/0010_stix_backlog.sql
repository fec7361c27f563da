-- kyoyu schema, version 10.
-- A new report rendition's STIX objects are made after its write, not in it (issue #12): the
-- rendition and this row commit together, and a follower (or the first STIX read) makes the
-- objects and removes the row. The identifier is the one the rendition was filed under. No
-- foreign key: on PostgreSQL each would lock the rendition's row in the hot write.
CREATE TABLE stix_backlog (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id  TEXT NOT NULL,
    identifier TEXT
);
