-- kyoyu schema, version 8. Closing side channels. Audit entries, notifications and mail about an
-- anonymised chain name the operator and secretariat they concern, so every view can hide them
-- from everyone else. Tokens have a kind (web session, API session, API token). Log-in failures
-- are throttled per account, client address and door with growing delays, replacing the
-- per-account lock. A TOTP code is accepted once.
ALTER TABLE audit_log ADD COLUMN conceal_org_id TEXT;
ALTER TABLE audit_log ADD COLUMN conceal_secretariat_id TEXT;
ALTER TABLE notifications ADD COLUMN conceal_org_id TEXT;
ALTER TABLE notifications ADD COLUMN conceal_secretariat_id TEXT;
ALTER TABLE mail_outbox ADD COLUMN conceal_org_id TEXT;
ALTER TABLE mail_outbox ADD COLUMN conceal_secretariat_id TEXT;

ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
UPDATE api_tokens SET kind = label WHERE label IN ('session', 'web');

DROP TABLE login_guards;
CREATE TABLE login_throttle (
    user_id       TEXT NOT NULL REFERENCES users(id),
    address       TEXT NOT NULL,
    door          TEXT NOT NULL,
    failed_count  BIGINT NOT NULL DEFAULT 0,
    blocked_until TEXT,
    PRIMARY KEY (user_id, address, door)
);

ALTER TABLE totp_secrets ADD COLUMN last_step BIGINT;

-- What a scope-widening request asks the operator to consent to: the advisory's TLP and its
-- recipients when it was asked. A later, wider draft is not covered by the answer.
ALTER TABLE scope_widenings ADD COLUMN target_tlp TEXT;
ALTER TABLE scope_widenings ADD COLUMN target_recipients TEXT;

-- A password an administrator set is good only for choosing a new one: nobody logs in with a
-- password someone else chose.
ALTER TABLE users ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT FALSE;
