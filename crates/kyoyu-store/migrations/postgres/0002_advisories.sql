-- kyoyu schema for PostgreSQL, version 2: advisories (情報提供), scope widening, questions, notifications, mail.

-- One advisory and its follow-ups (T2026-0001, -2 ...).
CREATE TABLE advisory_chains (
    id         TEXT PRIMARY KEY,
    identifier TEXT UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE advisories (
    id          TEXT PRIMARY KEY,
    chain_id    TEXT NOT NULL REFERENCES advisory_chains(id),
    sequence    BIGINT NOT NULL,
    status      TEXT NOT NULL,          -- draft | issued
    tlp         TEXT NOT NULL,
    severity    TEXT,
    urgent      BOOLEAN NOT NULL,
    -- JSON of the whole form as drafted (kyoyu_domain::advisory::AdvisoryDraft).
    draft       TEXT NOT NULL,
    search_text TEXT NOT NULL,
    author_org_id TEXT NOT NULL REFERENCES orgs(id),
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    issued_at   TEXT,
    UNIQUE (chain_id, sequence)
);

-- Reports (renditions the coordinator holds) an advisory draws on.
CREATE TABLE advisory_sources (
    advisory_id TEXT NOT NULL REFERENCES advisories(id),
    report_id   TEXT NOT NULL REFERENCES reports(id),
    PRIMARY KEY (advisory_id, report_id)
);

-- Every hop of delivery: coordinator -> ministry -> CEPTOAR -> operator, with its own TLP.
CREATE TABLE advisory_hops (
    id          TEXT PRIMARY KEY,
    advisory_id TEXT NOT NULL REFERENCES advisories(id),
    from_org_id TEXT NOT NULL REFERENCES orgs(id),
    to_org_id   TEXT NOT NULL REFERENCES orgs(id),
    tlp         TEXT NOT NULL,
    copy        BOOLEAN NOT NULL,       -- TRUE: the liaisons' copy of an urgent early warning
    created_at  TEXT NOT NULL,
    UNIQUE (advisory_id, to_org_id)
);

CREATE TABLE advisory_access (
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    advisory_id  TEXT NOT NULL REFERENCES advisories(id),
    need_to_know BOOLEAN NOT NULL,
    PRIMARY KEY (org_id, advisory_id)
);
CREATE INDEX advisory_access_advisory ON advisory_access(advisory_id);

CREATE TABLE advisory_acks (
    advisory_id TEXT NOT NULL REFERENCES advisories(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    status      TEXT NOT NULL,          -- received | acted | not_applicable
    comment     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (advisory_id, org_id)
);

CREATE TABLE advisory_questions (
    id            TEXT PRIMARY KEY,
    advisory_id   TEXT NOT NULL REFERENCES advisories(id),
    author_org_id TEXT NOT NULL REFERENCES orgs(id),
    author_id     TEXT NOT NULL REFERENCES users(id),
    text          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- The coordinator asks the originator of a source report to allow a wider audience.
CREATE TABLE scope_widenings (
    id             TEXT PRIMARY KEY,
    advisory_id    TEXT NOT NULL REFERENCES advisories(id),
    report_id      TEXT NOT NULL REFERENCES reports(id),
    chain_id       TEXT NOT NULL REFERENCES chains(id),
    status         TEXT NOT NULL,       -- at_secretariat | pending | granted | refused
    requested_at   TEXT NOT NULL,
    answered_at    TEXT,
    -- Never shown to the coordinator in the anonymised route.
    answered_by    TEXT REFERENCES users(id),
    UNIQUE (advisory_id, report_id)
);

-- In-app notifications; listing joins the policy's reader rows, so a lost right hides them.
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    object_type TEXT NOT NULL,          -- advisory | report | scope_widening
    object_id   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    read_at     TEXT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    notification_id TEXT REFERENCES notifications(id),
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, next_attempt_at);
