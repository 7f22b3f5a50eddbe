-- Usage history: one row per sampler snapshot of the ephemeral ports, and
-- hourly aggregates kept far longer. Version 4: version 3 is the Go
-- migration in migrate_roles.go. Conventions as in 00001 (times INTEGER
-- unix ms, UTC; plain portable types).

-- +goose Up
CREATE TABLE usage_samples (
    id                  INTEGER PRIMARY KEY,
    at                  INTEGER NOT NULL,
    source              TEXT    NOT NULL CHECK (source IN ('netlink', 'proc')),
    range_low           INTEGER NOT NULL,
    range_high          INTEGER NOT NULL,
    capacity            INTEGER NOT NULL,
    in_use              INTEGER NOT NULL, -- sockets with a local port in the range
    bound               INTEGER NOT NULL,
    udp                 INTEGER NOT NULL,
    tcp_total           INTEGER NOT NULL,
    time_wait           INTEGER NOT NULL,
    established         INTEGER NOT NULL,
    busiest_destination TEXT    NOT NULL DEFAULT '', -- "IP:PORT", "" when none
    busiest_sockets     INTEGER NOT NULL,
    busiest_risk        REAL    NOT NULL,
    shared_use          REAL    NOT NULL,
    tcp_states          TEXT    NOT NULL, -- JSON object: state -> count
    destinations        TEXT    NOT NULL, -- JSON array of the top 10
    -- 1 once merged into usage_hourly. A mark per row, not "recompute the
    -- hour from the rows still present", because retention deletes raw
    -- rows mid-hour: recomputing would then shrink a complete aggregate,
    -- and adding would count the survivors twice.
    folded              INTEGER NOT NULL DEFAULT 0 CHECK (folded IN (0, 1))
);
CREATE INDEX usage_samples_at_idx ON usage_samples (at);
-- Partial, so finding what to fold reads only the last hour or so of rows,
-- however long raw samples are kept.
CREATE INDEX usage_samples_unfolded_idx ON usage_samples (at) WHERE folded = 0;

-- Averages are merged weighted by samples. last_at is the time of the
-- sample range_low/high come from, so a late sample folded afterwards does
-- not overwrite them with an older range.
CREATE TABLE usage_hourly (
    hour             INTEGER PRIMARY KEY, -- unix ms of the hour's start, UTC
    samples          INTEGER NOT NULL,
    range_low        INTEGER NOT NULL,
    range_high       INTEGER NOT NULL,
    last_at          INTEGER NOT NULL,
    capacity_min     INTEGER NOT NULL,
    in_use_avg       REAL    NOT NULL,
    in_use_max       INTEGER NOT NULL,
    time_wait_avg    REAL    NOT NULL,
    time_wait_max    INTEGER NOT NULL,
    busiest_risk_max REAL    NOT NULL
);

-- +goose Down
DROP TABLE usage_hourly;
DROP INDEX usage_samples_unfolded_idx;
DROP INDEX usage_samples_at_idx;
DROP TABLE usage_samples;
