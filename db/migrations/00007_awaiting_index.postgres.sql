-- Every signed-in page asks whether a change awaits confirmation. Through
-- changes_status_idx that visits every applied change ever made; this
-- partial index holds only the few rows with a deadline, so the question
-- costs the same at a thousand changes or a million (see BENCHMARKS.md).
-- Partial indexes exist in PostgreSQL too.

-- +goose Up
CREATE INDEX changes_awaiting_idx ON changes (status, confirm_by) WHERE confirm_by IS NOT NULL;

-- +goose Down
DROP INDEX changes_awaiting_idx;
