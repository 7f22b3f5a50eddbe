-- The version db.Memo checks on PostgreSQL (db/memo.go): a counter that
-- moves with every statement writing a table that a memoized read (page,
-- API answer, session, user, token) depends on, in the writer's own
-- transaction, so it commits or rolls back with the data. The fleet's
-- tables (hosts, agent_nonces, host_samples, host_previews) and the
-- replicas' bookkeeping (job_leases, login_throttle, monitor_state,
-- listener_sightings, enrollment_tokens) are written up to a thousand
-- times a second at 10,000 hosts and no memoized read depends on them:
-- they have no trigger. TestDataVersionCoversMemoizedTables lists every
-- table and fails for one that is in neither list.

-- +goose Up
CREATE TABLE data_version (n BIGINT NOT NULL);
INSERT INTO data_version (n) VALUES (0);

-- +goose StatementBegin
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE data_version SET n = n + 1;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['audit_events', 'changes', 'samples', 'sessions', 'tokens',
		'usage_hourly', 'usage_samples', 'users', 'webhook_deliveries', 'webhook_endpoints'] LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
			FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()', t || '_data_version', t);
	END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- CASCADE drops the triggers with the function they run.
DROP FUNCTION bump_data_version() CASCADE;
DROP TABLE data_version;
