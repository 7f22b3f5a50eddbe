-- Fleet mode (issue 19): the hosts whose agents report to this control
-- plane, the one-time tokens that enroll them, the nonces that keep a
-- signed request from being replayed, the previews the control plane waits
-- for, and each host's history of its runtime range. Conventions as in
-- 00001; the PostgreSQL twin differs only in id columns and BIGINT.
-- "group" is reserved in SQL, hence group_name.

-- +goose Up
CREATE TABLE hosts (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    group_name      TEXT    NOT NULL,
    -- base64 of the Ed25519 public key; the private key never leaves the
    -- host. prev_public_key still verifies until prev_key_until, so
    -- requests signed just before a rotation are not refused.
    public_key      TEXT    NOT NULL,
    prev_public_key TEXT,
    prev_key_until  INTEGER,
    enrolled_at     INTEGER NOT NULL,
    revoked_at      INTEGER,
    -- What the agent says of itself, from its last accepted report.
    agent_version   TEXT    NOT NULL DEFAULT '',
    poll_seconds    INTEGER NOT NULL DEFAULT 0,
    observe_only    INTEGER NOT NULL DEFAULT 0 CHECK (observe_only IN (0, 1)),
    report          TEXT,    -- JSON agentapi.Observed
    reported_at     INTEGER, -- the control plane's clock, never the agent's
    -- Desired state: generations only grow, also across re-enrollment.
    generation      INTEGER NOT NULL DEFAULT 0,
    desired         TEXT,    -- JSON agentapi.DesiredChange; NULL: nothing to apply
    desired_at      INTEGER,
    confirm         TEXT    NOT NULL DEFAULT '[]', -- JSON generations to confirm
    -- What became of the latest generation the agent reported on.
    applied_generation INTEGER NOT NULL DEFAULT 0,
    applied_state   TEXT    NOT NULL DEFAULT '',
    applied_error   TEXT    NOT NULL DEFAULT '',
    applied_at      INTEGER,
    applied_deadline INTEGER
);
CREATE INDEX hosts_group_name_idx ON hosts (group_name, name);

-- Only the SHA-256 of a token is kept; the token is shown once.
CREATE TABLE enrollment_tokens (
    id         INTEGER PRIMARY KEY,
    hash       BLOB    NOT NULL UNIQUE,
    group_name TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_by    TEXT, -- the host name it enrolled
    revoked_at INTEGER
);

-- A nonce is remembered a little longer than a timestamp is accepted, so
-- a replay inside the window finds it.
CREATE TABLE agent_nonces (
    host_id INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    nonce   TEXT    NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (host_id, nonce)
);
CREATE INDEX agent_nonces_seen_at_idx ON agent_nonces (seen_at);

CREATE TABLE host_previews (
    id          TEXT    PRIMARY KEY,
    host_id     INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    keys        TEXT    NOT NULL, -- JSON map
    created_at  INTEGER NOT NULL,
    answer      TEXT,             -- JSON agentapi.PreviewResult
    answered_at INTEGER
);
CREATE INDEX host_previews_host_idx ON host_previews (host_id, answered_at);

CREATE TABLE host_samples (
    id             INTEGER PRIMARY KEY,
    host_id        INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    at             INTEGER NOT NULL,
    low            INTEGER NOT NULL,
    high           INTEGER NOT NULL,
    reserved_ports TEXT    NOT NULL DEFAULT '',
    in_use         INTEGER, -- sockets in the range, when the agent counted them
    risk           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX host_samples_host_at_idx ON host_samples (host_id, at);
CREATE INDEX host_samples_at_idx ON host_samples (at);

-- +goose Down
DROP TABLE host_samples;
DROP TABLE host_previews;
DROP TABLE agent_nonces;
DROP TABLE enrollment_tokens;
DROP TABLE hosts;
