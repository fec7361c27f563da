-- kyoyu schema, version 6. Log-in protection for the web UI and the API alike: failed
-- attempts lock an account for a while, and a user may enrol a TOTP second factor.
CREATE TABLE login_guards (
    user_id       TEXT PRIMARY KEY REFERENCES users(id),
    failed_count  BIGINT NOT NULL DEFAULT 0,
    locked_until  TEXT
);

CREATE TABLE totp_secrets (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    secret      TEXT NOT NULL,
    enrolled_at TEXT NOT NULL
);
