-- Initial schema. Conventions:
--  * times are INTEGER unix milliseconds, UTC: sortable, portable
--    (BIGINT elsewhere) and independent of the driver's time formatting;
--  * plain types and no SQLite-only syntax except AUTOINCREMENT and the
--    audit triggers, which have to be SQLite's;
--  * "user" is reserved in PostgreSQL, hence user_name.

-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX tokens_user_id_idx ON tokens (user_id);

-- status has no CHECK: later statuses (proposed, approved, ...) would need
-- a table rebuild in SQLite; Go validates it instead.
-- user_id has no foreign key: user_name keeps who it was, and a change
-- must stay recordable (and readable) whatever happens to the account.
CREATE TABLE changes (
    id              INTEGER PRIMARY KEY,
    status          TEXT    NOT NULL,
    low             INTEGER NOT NULL,
    high            INTEGER NOT NULL,
    before_low      INTEGER NOT NULL,
    before_high     INTEGER NOT NULL,
    reason          TEXT    NOT NULL,
    user_id         INTEGER NOT NULL,
    user_name       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    file            TEXT    NOT NULL,
    diff            TEXT    NOT NULL,
    error           TEXT    NOT NULL,
    rollback_of     INTEGER REFERENCES changes (id),
    warnings        TEXT    NOT NULL, -- JSON array of strings
    file_existed    INTEGER NOT NULL CHECK (file_existed IN (0, 1)),
    file_before     BLOB,
    file_after_hash TEXT    NOT NULL
);
CREATE INDEX changes_rollback_of_idx ON changes (rollback_of);
CREATE INDEX changes_created_at_idx ON changes (created_at);

-- AUTOINCREMENT so ids are never reused; the chain hashes the id.
CREATE TABLE audit_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    user_name TEXT    NOT NULL,
    action    TEXT    NOT NULL CHECK (action <> ''),
    detail    TEXT    NOT NULL,
    change_id INTEGER REFERENCES changes (id),
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_change_id_idx ON audit_events (change_id);

-- Append-only is the database's rule, not just the code's: raw SQL from
-- any client is refused too.
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
-- +goose StatementEnd

CREATE TABLE samples (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    low    INTEGER NOT NULL,
    high   INTEGER NOT NULL,
    source TEXT    NOT NULL CHECK (source IN ('start', 'change', 'external', 'sample'))
);
CREATE INDEX samples_at_idx ON samples (at);

-- The layout github.com/alexedwards/scs/sqlite3store expects; expiry is a
-- julianday() REAL, written and compared by the store itself.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry REAL NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
DROP TABLE samples;
DROP TRIGGER audit_events_no_delete;
DROP TRIGGER audit_events_no_update;
DROP TABLE audit_events;
DROP TABLE changes;
DROP TABLE tokens;
DROP TABLE users;
