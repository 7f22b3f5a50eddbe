-- Version 3 lets users.role be 'approver'. On SQLite it is a Go migration
-- (migrate_roles.go), because SQLite cannot alter a CHECK constraint and
-- rebuilds the table with foreign keys off. PostgreSQL alters the
-- constraint in place, in goose's transaction, with every foreign key to
-- users left standing, so here it is plain SQL. users_role_check is the
-- name PostgreSQL gives 00001's unnamed column CHECK.

-- +goose Up
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('viewer', 'operator', 'approver', 'admin'));

-- +goose Down
-- As on SQLite: approvers become operators, the older schema cannot hold
-- the role, and this grants nobody more than they had.
UPDATE users SET role = 'operator' WHERE role = 'approver';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('viewer', 'operator', 'admin'));
