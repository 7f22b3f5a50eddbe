-- Signed webhooks: the endpoints admins configure, the outbox of
-- deliveries (one row per event and subscribed endpoint, written in the
-- transaction that records the event), and the last state of what the
-- monitors watch (drift, risk level), so a restart does not announce
-- again what was already announced. Conventions as in 00001 (times
-- INTEGER unix ms, UTC; plain portable types).

-- +goose Up
CREATE TABLE webhook_endpoints (
    id         INTEGER PRIMARY KEY,
    url        TEXT    NOT NULL,
    -- whsec_<base64>: the HMAC key must be kept to sign, so it cannot be
    -- hashed like a token. It is never listed, logged or audited
    -- (README, "Webhooks").
    secret     TEXT    NOT NULL,
    events     TEXT    NOT NULL, -- event types, space-separated
    format     TEXT    NOT NULL CHECK (format IN ('standard', 'chat')),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- The last delivery attempt to this endpoint, for its page.
    last_attempt_at INTEGER,
    last_status     INTEGER, -- HTTP status; NULL when no answer came
    last_error      TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- webhook-id: the same on every attempt, so receivers can drop
    -- duplicates (a crash between sending and recording sends again).
    msg_id      TEXT    NOT NULL UNIQUE,
    event_type  TEXT    NOT NULL,
    -- The audit event that raised it: every delivery has its event.
    audit_id    INTEGER NOT NULL REFERENCES audit_events (id),
    body        BLOB    NOT NULL, -- exactly what is signed and sent
    created_at  INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER,          -- due time while pending
    claimed_until INTEGER,        -- a worker holds it until then
    last_attempt_at INTEGER,
    last_status INTEGER,
    last_error  TEXT    NOT NULL DEFAULT '',
    done_at     INTEGER           -- delivered or given up
);
-- The worker's poll, every second: only pending rows, by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE monitor_state (
    name  TEXT    PRIMARY KEY, -- "drift", "risk"
    value TEXT    NOT NULL,
    at    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE monitor_state;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
