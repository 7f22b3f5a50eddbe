-- Shared state of the control-plane replicas (issue 19, point 6). Portable
-- SQL, one file for both dialects: no id columns, no triggers. Conventions
-- as in 00001 (times are unix milliseconds).
--
-- login_throttle holds the sign-in failure counts of handlers/throttle, so
-- that every replica counts the same attempts: an attacker who alternates
-- replicas gains nothing. key is the SHA-256 (hex) of the limiter's key,
-- never a typed name or address in clear (a password typed into the name
-- field must not land in the database). A row with no failures and no wait
-- is deleted; a row idle for the limiter's Forget time is pruned.
--
-- job_leases says which replica runs a periodic job now and when it last
-- started, so that a job runs once per period across replicas (cli/jobs.go).
-- running_until is 0 when no run holds the job; a run that dies holds it
-- until then at most. read_to is how far a job that reads a log got (the
-- syslog forwarder: the last audit event id read), so the replica that
-- takes the job over goes on from there.

-- +goose Up
CREATE TABLE login_throttle (
    key      TEXT PRIMARY KEY,
    fails    INTEGER NOT NULL,
    until_at BIGINT NOT NULL,
    seen_at  BIGINT NOT NULL
);
CREATE INDEX login_throttle_seen ON login_throttle (seen_at);

CREATE TABLE job_leases (
    name          TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    running_until BIGINT NOT NULL,
    read_to       BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE job_leases;
DROP TABLE login_throttle;
