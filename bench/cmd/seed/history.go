package main

import (
	"context"
	"database/sql"
	"fmt"
)

// seedSamples writes n range samples, alternating values as the sampler
// stores only differences; the newest is 32768 60999, the range a new
// network namespace starts with, so the server's first sample finds no
// external change.
func seedSamples(ctx context.Context, tx *sql.Tx, n int, now int64) error {
	_, err := tx.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
	INSERT INTO samples (id, at, low, high, source)
	SELECT i, `+atSQL(n, now, 10_000)+`, 32768 - 2 * ((? - i) % 5), 60999,
		CASE i % 3 WHEN 0 THEN 'sample' WHEN 1 THEN 'change' ELSE 'external' END
	FROM s`, n, n)
	return err
}

// seedUsage writes what a year of the usage sampler leaves with the
// default retention: hourly aggregates for 365 days and raw samples every
// 30 s for the last 7, folded except in the current hour. The same in
// every seeded database.
func seedUsage(ctx context.Context, tx *sql.Tx, now int64) error {
	hour := now - now%hourMS
	if _, err := tx.ExecContext(ctx, `WITH RECURSIVE h(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM h WHERE k < 8760)
	INSERT INTO usage_hourly (hour, samples, range_low, range_high, last_at, capacity_min, in_use_avg,
		in_use_max, time_wait_avg, time_wait_max, busiest_risk_max)
	SELECT ? - k * ?, 120, 32768, 60999, ? - k * ? + 3570000, 28232, 900 + (k * 37) % 400,
		1400 + (k * 53) % 600, 500 + (k * 41) % 300, 900 + (k * 29) % 300, 0.02 + ((k * 13) % 50) / 1000.0
	FROM h`, hour, hourMS, hour, hourMS); err != nil {
		return fmt.Errorf("hourly: %w", err)
	}
	const every, days = 30_000, 7
	_, err := tx.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
	INSERT INTO usage_samples (at, source, range_low, range_high, capacity, in_use, bound, udp, tcp_total,
		time_wait, established, busiest_destination, busiest_sockets, busiest_risk, shared_use, tcp_states,
		destinations, folded)
	SELECT at, 'netlink', 32768, 60999, 28232, 900 + (i * 37) % 400, 12, 6, 1300 + (i * 37) % 400,
		500 + (i * 41) % 300, 800, '10.0.0.5:443', 400 + (i * 7) % 300, (400 + (i * 7) % 300) / 28232.0, 0.01,
		'{"ESTABLISHED":800,"TIME_WAIT":' || (500 + (i * 41) % 300) || ',"LISTEN":12}',
		'[{"local_ip":"10.0.0.2","destination":"10.0.0.5:443","sockets":' || (400 + (i * 7) % 300) ||
		',"risk":0.02},{"local_ip":"10.0.0.2","destination":"10.0.0.6:5432","sockets":120,"risk":0.004}]',
		at < ?
	FROM (SELECT i, ? - i * ? AS at FROM s) ORDER BY at`, days*24*3600*1000/every, hour, now-1000, every)
	if err != nil {
		return fmt.Errorf("raw: %w", err)
	}
	return nil
}
