-- The audit page filtered by user pages newest first by id: without an
-- index on user_name the query walks the primary key down from the cursor
-- until it has a page, through the whole log for a user with few events.
-- An index on user_name carries the rowid, so SQLite reads the user's
-- events in id order from it, bounded by the page size.

-- +goose Up
CREATE INDEX audit_events_user_idx ON audit_events (user_name);

-- +goose Down
DROP INDEX audit_events_user_idx;
