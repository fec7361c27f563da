-- Where each received rendition stands with its receiving organisation: a state, an owner
-- among its users, and who changed it when. No row means open (未対応).
CREATE TABLE report_triage (
    report_id     TEXT PRIMARY KEY REFERENCES reports(id),
    state         TEXT NOT NULL,
    owner_user_id TEXT REFERENCES users(id),
    updated_by    TEXT NOT NULL REFERENCES users(id),
    updated_at    TEXT NOT NULL
);
