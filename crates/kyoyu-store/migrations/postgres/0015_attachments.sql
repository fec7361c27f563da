-- Files on reports and advisories (issue 15). The bytes are encrypted (AES-256-GCM, STREAM
-- construction) with a key per blob, wrapped by a master key named by key_id. On SQLite the
-- sealed chunks live in a folder of the data directory; on PostgreSQL in attachment_chunks.
CREATE TABLE attachment_blobs (
    id            TEXT PRIMARY KEY,
    key_id        TEXT NOT NULL,
    wrapped_key   BYTEA NOT NULL,
    nonce_prefix  BYTEA NOT NULL,
    size          BIGINT NOT NULL,
    chunks        BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- A file as one item carries it; a forward's carried copy shares the blob of its source.
CREATE TABLE attachments (
    id               TEXT PRIMARY KEY,
    item_type        TEXT NOT NULL,      -- report | advisory
    item_id          TEXT NOT NULL,
    blob_id          TEXT NOT NULL REFERENCES attachment_blobs(id),
    kind             TEXT NOT NULL,      -- attachment | sample
    tlp              TEXT NOT NULL,
    name             TEXT NOT NULL,
    media_type       TEXT NOT NULL,
    size             BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    sha1             TEXT NOT NULL,
    md5              TEXT NOT NULL,
    -- JSON (kyoyu_domain::attachment::Packed) when a sample arrived as a zip.
    packed           TEXT,
    uploader_org_id  TEXT NOT NULL REFERENCES orgs(id),
    uploader_user_id TEXT NOT NULL REFERENCES users(id),
    carried_from     TEXT REFERENCES attachments(id),
    created_at       TEXT NOT NULL
);
CREATE INDEX attachments_item ON attachments(item_id, created_at);

-- Samples shared with an analysis partner until expires_at (表5 ※2).
CREATE TABLE sample_grants (
    id            TEXT PRIMARY KEY,
    attachment_id TEXT NOT NULL REFERENCES attachments(id),
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    expires_at    TEXT NOT NULL,
    granted_by    TEXT NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX sample_grants_org ON sample_grants(org_id, expires_at);

CREATE TABLE attachment_chunks (
    blob_id TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    bytes   BYTEA NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
