-- PostgreSQL's twin adds the data_version counter db.Memo checks there;
-- SQLite has PRAGMA data_version (db/memo.go), so nothing changes here.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
