-- The history page links each chart marker of a change to its change: a
-- change of the same range, created before the sample. Its query looked
-- for the window's ranges by walking every change created since the
-- window's start less a month's lookback (900 rows for a 7-day page, a
-- sixth of its cost); with the range and the time in one index it reads
-- only the changes of those ranges.

-- +goose Up
CREATE INDEX changes_range_created_at_idx ON changes (low, high, created_at);

-- +goose Down
DROP INDEX changes_range_created_at_idx;
