-- The CEPTOARs that sit on the CEPTOAR council, each by its own decision (000 別紙5); who
-- joined or left when is in the audit log.
CREATE TABLE council_members (
    org_id    TEXT PRIMARY KEY REFERENCES orgs(id),
    joined_by TEXT NOT NULL REFERENCES users(id),
    joined_at TEXT NOT NULL
);

-- Renditions shared through the council: its board. The readers it reached are ordinary
-- shares (report_shares).
CREATE TABLE council_shares (
    report_id        TEXT PRIMARY KEY REFERENCES reports(id),
    shared_by_org_id TEXT NOT NULL REFERENCES orgs(id),
    created_at       TEXT NOT NULL
);
