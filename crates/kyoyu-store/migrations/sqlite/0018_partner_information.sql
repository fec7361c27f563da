-- Information partners send the coordinator (004 3.1), numbered in its own series (P2026-0001)
-- and followed up like a report: a chain of items.
CREATE TABLE partner_chains (
    id            TEXT PRIMARY KEY,
    identifier    TEXT NOT NULL UNIQUE,
    sender_org_id TEXT NOT NULL REFERENCES orgs(id),
    created_at    TEXT NOT NULL
);

CREATE TABLE partner_information (
    id          TEXT PRIMARY KEY,
    chain_id    TEXT NOT NULL REFERENCES partner_chains(id),
    sequence    INTEGER NOT NULL,
    tlp         TEXT NOT NULL,
    content     TEXT NOT NULL,
    search_text TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    UNIQUE (chain_id, sequence)
);

-- The readers the policy grants (kyoyu_policy::partner::partner_grants).
CREATE TABLE partner_access (
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    partner_id   TEXT NOT NULL REFERENCES partner_information(id),
    need_to_know INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (org_id, partner_id)
);
CREATE INDEX partner_access_newest ON partner_access (org_id, created_at DESC, partner_id DESC);
CREATE INDEX partner_access_item ON partner_access (partner_id);

-- The coordinator's shares, each inside the item's ceiling.
CREATE TABLE partner_shares (
    partner_id       TEXT NOT NULL REFERENCES partner_information(id),
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    shared_by_org_id TEXT NOT NULL REFERENCES orgs(id),
    created_at       TEXT NOT NULL,
    PRIMARY KEY (partner_id, org_id)
);
