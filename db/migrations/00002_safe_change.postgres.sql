-- Safe changes: approval, planned file content, stale-file detection and
-- commit-confirmed. New columns only, so existing rows keep their meaning:
-- the defaults describe a change made before this migration (no notes, no
-- approval, no confirmation window, never emergency). Times as in 00001:
-- BIGINT unix ms, NULL where "not yet"; confirm_within is in seconds.

-- +goose Up
ALTER TABLE changes ADD COLUMN notes TEXT COLLATE "C" NOT NULL DEFAULT '[]'; -- JSON array of strings
ALTER TABLE changes ADD COLUMN file_after BYTEA; -- NULL: file removed, or never planned
ALTER TABLE changes ADD COLUMN remove_file BIGINT NOT NULL DEFAULT 0 CHECK (remove_file IN (0, 1));
ALTER TABLE changes ADD COLUMN base_file_hash TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN confirm_within BIGINT NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN confirm_by BIGINT;
ALTER TABLE changes ADD COLUMN decided_by TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN decided_at BIGINT;
ALTER TABLE changes ADD COLUMN decision_reason TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN confirmed_by TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN confirmed_at BIGINT;
ALTER TABLE changes ADD COLUMN emergency BIGINT NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1));
-- A column added with ALTER TABLE can only default to a constant; an old
-- change last moved when it was created.
ALTER TABLE changes ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE changes SET updated_at = created_at;
-- The review queue, the confirmation banner and crash recovery all look
-- changes up by status.
CREATE INDEX changes_status_idx ON changes (status);

-- +goose Down
DROP INDEX changes_status_idx;
ALTER TABLE changes DROP COLUMN updated_at;
ALTER TABLE changes DROP COLUMN emergency;
ALTER TABLE changes DROP COLUMN confirmed_at;
ALTER TABLE changes DROP COLUMN confirmed_by;
ALTER TABLE changes DROP COLUMN decision_reason;
ALTER TABLE changes DROP COLUMN decided_at;
ALTER TABLE changes DROP COLUMN decided_by;
ALTER TABLE changes DROP COLUMN confirm_by;
ALTER TABLE changes DROP COLUMN confirm_within;
ALTER TABLE changes DROP COLUMN base_file_hash;
ALTER TABLE changes DROP COLUMN remove_file;
ALTER TABLE changes DROP COLUMN file_after;
ALTER TABLE changes DROP COLUMN notes;
