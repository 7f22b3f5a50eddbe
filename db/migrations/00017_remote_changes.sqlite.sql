-- Changes on a remote host (issue 19 point 5) live in the changes table
-- beside the local host's, so every path (approval, rollback, audit, the
-- lists) is the same one. host names the host ('' is the local host);
-- base_generation is the host's desired-state generation the change was
-- planned against (a change made meanwhile makes it stale); generation is
-- the one it was sent as (0: not sent yet), which maps the agent's result
-- back to the row; agent_result is the agent's last word on it
-- (agentapi.Result* states). The PostgreSQL twin differs only in BIGINT.

-- +goose Up
ALTER TABLE changes ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN base_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN agent_result TEXT NOT NULL DEFAULT '';
CREATE INDEX changes_host_idx ON changes (host, id);
CREATE INDEX changes_host_generation_idx ON changes (host, generation) WHERE host <> '';

-- +goose Down
DROP INDEX changes_host_generation_idx;
DROP INDEX changes_host_idx;
ALTER TABLE changes DROP COLUMN agent_result;
ALTER TABLE changes DROP COLUMN generation;
ALTER TABLE changes DROP COLUMN base_generation;
ALTER TABLE changes DROP COLUMN host;
