-- kyoyu schema for PostgreSQL, version 1. Times are RFC 3339 UTC text with microseconds, so they sort.

CREATE TABLE orgs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    name_ja          TEXT NOT NULL,
    name_en          TEXT NOT NULL,
    sector           TEXT,
    analysis_partner BOOLEAN NOT NULL DEFAULT FALSE,
    -- JSON {aliases, domains, emails, phones}: what identifies the organisation (anonymisation).
    identity         TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    login         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT,
    phone         TEXT,
    password_hash TEXT,
    roles         TEXT NOT NULL,
    need_to_know  BOOLEAN NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE sectors (
    code            TEXT PRIMARY KEY,
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    ministry_org_id TEXT REFERENCES orgs(id),
    position        BIGINT NOT NULL
);

CREATE TABLE service_level_rules (
    id                   TEXT PRIMARY KEY,
    sector               TEXT NOT NULL REFERENCES sectors(code),
    service              TEXT NOT NULL,
    condition_ja         TEXT NOT NULL,
    condition_en         TEXT NOT NULL,
    statute              TEXT NOT NULL,
    min_users            BIGINT,
    min_duration_minutes BIGINT,
    min_interrupted_kw   BIGINT,
    min_households       BIGINT,
    position             BIGINT NOT NULL
);

CREATE TABLE sector_dependencies (
    sector     TEXT NOT NULL REFERENCES sectors(code),
    depends_on TEXT NOT NULL REFERENCES sectors(code),
    PRIMARY KEY (sector, depends_on)
);

-- One incident as reported over time: 第1報, 第2報 ...
CREATE TABLE chains (
    id                    TEXT PRIMARY KEY,
    route                 TEXT NOT NULL,
    statutory             BOOLEAN NOT NULL,
    sector                TEXT NOT NULL,
    originator_org_id     TEXT NOT NULL REFERENCES orgs(id),
    -- The CEPTOAR that holds the link to the operator in the anonymised route.
    secretariat_org_id    TEXT REFERENCES orgs(id),
    identifier            TEXT UNIQUE,
    disclosure_consent_at TEXT,
    disclosure_consent_by TEXT,
    created_at            TEXT NOT NULL
);

-- One rendition: the form as one sender gave it to one receiver.
CREATE TABLE reports (
    id                  TEXT PRIMARY KEY,
    chain_id            TEXT NOT NULL REFERENCES chains(id),
    sequence            BIGINT NOT NULL,
    parent_id           TEXT REFERENCES reports(id),
    sender_org_id       TEXT NOT NULL REFERENCES orgs(id),
    receiver_org_id     TEXT NOT NULL REFERENCES orgs(id),
    status              TEXT NOT NULL,
    tlp                 TEXT NOT NULL,
    severity            TEXT,
    event_type          TEXT,
    sector              TEXT NOT NULL,
    -- TRUE where the content names the operator of an anonymised chain (before scrubbing).
    identifies_operator BOOLEAN NOT NULL,
    content             TEXT NOT NULL,
    search_text         TEXT NOT NULL,
    published_at        TEXT,
    created_by          TEXT NOT NULL REFERENCES users(id),
    created_at          TEXT NOT NULL
);
CREATE INDEX reports_chain ON reports(chain_id, sequence);
CREATE INDEX reports_created ON reports(created_at DESC, id DESC);

CREATE TABLE report_shares (
    report_id        TEXT NOT NULL REFERENCES reports(id),
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    shared_by_org_id TEXT NOT NULL REFERENCES orgs(id),
    created_at       TEXT NOT NULL,
    PRIMARY KEY (report_id, org_id)
);

-- Who may read each rendition, written only from the policy's AccessGrants.
CREATE TABLE report_access (
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    report_id    TEXT NOT NULL REFERENCES reports(id),
    need_to_know BOOLEAN NOT NULL,
    PRIMARY KEY (org_id, report_id)
);
CREATE INDEX report_access_report ON report_access(report_id);

CREATE TABLE counters (
    series TEXT NOT NULL,
    year   BIGINT NOT NULL,
    last   BIGINT NOT NULL,
    PRIMARY KEY (series, year)
);

CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_user_id TEXT,
    actor_org_id  TEXT,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    detail        TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);

-- The last entry's number and hash, so that deleting the newest entries shows too.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- The head exists from the start, so that concurrent appends lock it (SELECT … FOR UPDATE).
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
