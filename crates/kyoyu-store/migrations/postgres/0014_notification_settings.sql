-- How each user is told by mail: at once for every notification (the default, no row), or
-- only in the digest.
CREATE TABLE notification_settings (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    mode TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
