-- Fleet mode at 10,000 hosts (issue 19). Portable SQL, one file for both
-- dialects. Conventions as in 00001 (times are unix milliseconds).
--
-- hosts.report_tat is the per-host report limit's state, kept in the row
-- every report updates anyway, so the limit holds across replicas at no
-- extra statement: a generic cell rate algorithm's "theoretical arrival
-- time" (db/host_reports.go).
--
-- host_previews.offered_at is when a poll last handed the preview to its
-- agent: a preview is offered again only after a pause, so one the agent
-- fails to answer does not turn its polls into a busy loop.

-- +goose Up
ALTER TABLE hosts ADD COLUMN report_tat BIGINT NOT NULL DEFAULT 0;
ALTER TABLE host_previews ADD COLUMN offered_at BIGINT;

-- +goose Down
ALTER TABLE host_previews DROP COLUMN offered_at;
ALTER TABLE hosts DROP COLUMN report_tat;
