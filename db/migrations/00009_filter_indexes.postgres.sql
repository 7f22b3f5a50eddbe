-- The filtered audit and history pages (issue 6: cost flat in the size of
-- the history). A page with a time bound is read newest first down a time
-- index, in (time, id) order; filtered by user as well, it needs the user
-- and the time in one index, whose entries end with the rowid, so the
-- user's rows in the window come out already in page order, from the
-- cursor on, with no sort.
--
-- changes had no index on user_name at all: the history filtered by a user
-- with few changes walked the whole table (a minute on a 1M-row history
-- read cold) to fill a page. changes_user_idx pages such a user by id, as
-- audit_events_user_idx (00008) does for the audit log; the composite
-- index would not do, as within one user it is in time order, not id order.

-- +goose Up
CREATE INDEX changes_user_idx ON changes (user_name);
CREATE INDEX changes_user_created_at_idx ON changes (user_name, created_at);
CREATE INDEX audit_events_user_at_idx ON audit_events (user_name, at);

-- +goose Down
DROP INDEX audit_events_user_at_idx;
DROP INDEX changes_user_created_at_idx;
DROP INDEX changes_user_idx;
