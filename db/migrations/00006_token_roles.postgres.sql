-- API tokens get a role and an optional expiry. Version 6 (5 is the users
-- migration). Conventions as in 00001.
--  * role '' means the owner's role: what every token from before this
--    migration did. A token never does more than its owner's current
--    role, whatever it says here; Go checks the value (no CHECK, so a new
--    role does not need a table rebuild, as with changes.status).
--  * expires_at is unix ms, UTC; NULL: never.

-- +goose Up
ALTER TABLE tokens ADD COLUMN role TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;

-- +goose Down
ALTER TABLE tokens DROP COLUMN expires_at;
ALTER TABLE tokens DROP COLUMN role;
