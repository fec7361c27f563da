-- Operators' crime reports of their own submissions to response agencies (別添2.2): kept
-- apart from the community's shares, since only the operator and the agency may learn of them.
CREATE TABLE crime_shares (
    report_id         TEXT NOT NULL REFERENCES reports(id),
    org_id            TEXT NOT NULL REFERENCES orgs(id),
    shared_by_user_id TEXT NOT NULL REFERENCES users(id),
    created_at        TEXT NOT NULL,
    PRIMARY KEY (report_id, org_id)
);
