-- The range's neighbours: the ports services listened on in the last days
-- (a service that is down right now is the one a change puts at risk), and
-- the hazards a change was checked for with the ones its author or
-- approver acknowledged. Conventions as in 00001 (times BIGINT unix ms,
-- UTC; plain portable types).

-- +goose Up
-- One row per protocol, port and process name: a service restarting
-- (new PID) updates its row, another program on the same port gets one of
-- its own. '' is a process portpanel could not name (no permission to
-- read its /proc/PID/fd, or it was gone by then).
CREATE TABLE listener_sightings (
    proto      TEXT COLLATE "C"    NOT NULL CHECK (proto IN ('tcp', 'udp')),
    port       BIGINT NOT NULL CHECK (port BETWEEN 1 AND 65535),
    process    TEXT COLLATE "C"    NOT NULL DEFAULT '',
    pid        BIGINT NOT NULL DEFAULT 0, -- the last one seen; 0 when unknown
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    PRIMARY KEY (proto, port, process)
);
-- Retention deletes by age, and checks read the last days only.
CREATE INDEX listener_sightings_last_seen_idx ON listener_sightings (last_seen);

-- JSON array of {"code", "message"}: the hazards found when the change
-- was planned (for a proposal, again when approved).
ALTER TABLE changes ADD COLUMN hazards TEXT COLLATE "C" NOT NULL DEFAULT '[]';
-- JSON array of hazard codes someone acknowledged for this change.
ALTER TABLE changes ADD COLUMN acknowledged TEXT COLLATE "C" NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE changes DROP COLUMN acknowledged;
ALTER TABLE changes DROP COLUMN hazards;
DROP TABLE listener_sightings;
