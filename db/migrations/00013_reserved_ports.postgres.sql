-- ip_local_reserved_ports, managed together with the range: a change may
-- set it (its value after, and the kernel's before, both as the kernel
-- prints them: sorted, merged, '' for none), and history records it with
-- every sample. NULL means "not set by this change" and "not recorded",
-- which is what every row from before this migration is. Conventions as
-- in 00001.

-- +goose Up
ALTER TABLE changes ADD COLUMN reserved_ports TEXT;
ALTER TABLE changes ADD COLUMN before_reserved_ports TEXT;
ALTER TABLE samples ADD COLUMN reserved_ports TEXT;

-- +goose Down
ALTER TABLE samples DROP COLUMN reserved_ports;
ALTER TABLE changes DROP COLUMN before_reserved_ports;
ALTER TABLE changes DROP COLUMN reserved_ports;
