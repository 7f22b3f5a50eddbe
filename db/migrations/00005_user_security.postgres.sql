-- User management: accounts can be disabled, an admin-chosen password must
-- be changed at the next sign-in, and sessions die when the password
-- changes. Version 5 (6 is the API token migration). Conventions as in
-- 00001; new columns only, so existing users keep their meaning: enabled,
-- no forced change, password set when the account was created.
--  * session_epoch goes up at every password change and every disable; a
--    session remembers the epoch it started at and is refused once the
--    user's has moved on, so a reset or a disable ends every session at once
--    (and a re-enable revives none).

-- +goose Up
ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
-- A column added with ALTER TABLE can only default to a constant.
ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE users SET password_changed_at = created_at;
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN session_epoch;
ALTER TABLE users DROP COLUMN password_changed_at;
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN disabled;
