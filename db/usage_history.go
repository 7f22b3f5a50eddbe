package db

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// UsagePoint is one point of the usage chart: a raw sample or an hourly
// aggregate. For a raw sample the maxima are the sample's values. (The
// hours' averages are not read: the chart draws peaks.)
type UsagePoint struct {
	At                  time.Time // the sample's time, or the hour's start
	RangeLow, RangeHigh int       // of the hour's last sample when Hourly
	Capacity            int       // the hour's minimum when Hourly
	InUseMax            int
	TimeWaitMax         int
	BusiestRisk         float64 // the hour's maximum when Hourly
	Hourly              bool
}

const hourMS = int64(time.Hour / time.Millisecond)

// UsageSince returns the chart's points from since on, oldest first: raw
// samples taken at or after since, or, if hourly, the folded hours that
// end after since (the hour containing since included). Hours are folded
// by PruneUsage only once they are over, so the current hour is never
// among them.
func (d *DB) UsageSince(ctx context.Context, since time.Time, hourly bool) ([]UsagePoint, error) {
	what := fmt.Sprintf("list usage since %s (hourly %t)", since.UTC().Format(time.RFC3339), hourly)
	query := `SELECT at, range_low, range_high, capacity, in_use, time_wait,
		busiest_risk, 0 FROM usage_samples WHERE at >= $1 ORDER BY at, id`
	from := toMS(since)
	if hourly {
		query = `SELECT hour, range_low, range_high, capacity_min,
			in_use_max, time_wait_max, busiest_risk_max, 1 FROM usage_hourly WHERE hour > $1 ORDER BY hour`
		from -= hourMS
	}
	rows, err := d.sql.QueryContext(ctx, query, from)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, scanUsagePoint, what)
}

func scanUsagePoint(row interface{ Scan(...any) error }) (UsagePoint, error) {
	var p UsagePoint
	var at int64
	err := row.Scan(&at, &p.RangeLow, &p.RangeHigh, &p.Capacity, &p.InUseMax, &p.TimeWaitMax, &p.BusiestRisk, &p.Hourly)
	p.At = fromMS(at)
	return p, err
}

// Retention says how long usage history is kept: raw samples for Raw,
// hourly aggregates for Hourly.
type Retention struct {
	Raw, Hourly time.Duration
}

// foldUsage merges every raw sample not yet folded, from hours before
// before, into usage_hourly and marks it folded. Each sample is merged
// exactly once whatever retention deleted since, and a sample inserted
// late (clock stepped back) joins its hour's aggregate instead of
// replacing it.
//
// The SELECT has a WHERE because SQLite cannot otherwise tell the join's
// ON from the upsert's; the CASEs are there because SQLite's max(a, b) is
// GREATEST in PostgreSQL. In DO UPDATE every right-hand side reads the
// row as it was, so the weighted averages use the old sample count.
const foldUsage = `
INSERT INTO usage_hourly (hour, samples, range_low, range_high, last_at, capacity_min,
	in_use_avg, in_use_max, time_wait_avg, time_wait_max, busiest_risk_max)
SELECT g.hour, g.samples, l.range_low, l.range_high, l.at, g.capacity_min,
	g.in_use_avg, g.in_use_max, g.time_wait_avg, g.time_wait_max, g.busiest_risk_max
FROM (
	SELECT (at / 3600000) * 3600000 AS hour, COUNT(*) AS samples, MIN(capacity) AS capacity_min,
		AVG(in_use) AS in_use_avg, MAX(in_use) AS in_use_max, AVG(time_wait) AS time_wait_avg,
		MAX(time_wait) AS time_wait_max, MAX(busiest_risk) AS busiest_risk_max
	FROM usage_samples WHERE folded = 0 AND at < $1
	GROUP BY (at / 3600000) * 3600000
) AS g
JOIN usage_samples AS l ON l.id = (
	SELECT s.id FROM usage_samples AS s
	WHERE s.folded = 0 AND s.at >= g.hour AND s.at < g.hour + 3600000
	ORDER BY s.at DESC, s.id DESC LIMIT 1)
WHERE 1 = 1
ON CONFLICT (hour) DO UPDATE SET
	samples = usage_hourly.samples + excluded.samples,
	range_low = CASE WHEN excluded.last_at >= usage_hourly.last_at
		THEN excluded.range_low ELSE usage_hourly.range_low END,
	range_high = CASE WHEN excluded.last_at >= usage_hourly.last_at
		THEN excluded.range_high ELSE usage_hourly.range_high END,
	last_at = CASE WHEN excluded.last_at >= usage_hourly.last_at
		THEN excluded.last_at ELSE usage_hourly.last_at END,
	capacity_min = CASE WHEN excluded.capacity_min < usage_hourly.capacity_min
		THEN excluded.capacity_min ELSE usage_hourly.capacity_min END,
	in_use_avg = (usage_hourly.in_use_avg * usage_hourly.samples
		+ excluded.in_use_avg * excluded.samples) / (usage_hourly.samples + excluded.samples),
	in_use_max = CASE WHEN excluded.in_use_max > usage_hourly.in_use_max
		THEN excluded.in_use_max ELSE usage_hourly.in_use_max END,
	time_wait_avg = (usage_hourly.time_wait_avg * usage_hourly.samples
		+ excluded.time_wait_avg * excluded.samples) / (usage_hourly.samples + excluded.samples),
	time_wait_max = CASE WHEN excluded.time_wait_max > usage_hourly.time_wait_max
		THEN excluded.time_wait_max ELSE usage_hourly.time_wait_max END,
	busiest_risk_max = CASE WHEN excluded.busiest_risk_max > usage_hourly.busiest_risk_max
		THEN excluded.busiest_risk_max ELSE usage_hourly.busiest_risk_max END`

// PruneUsage folds the raw samples from hours before now's into
// usage_hourly, then deletes raw samples older than now−r.Raw and hourly
// rows for hours that ended before now−r.Hourly, all in one transaction.
// It returns how many rows it deleted. Calling it again folds only samples
// added since: nothing is counted twice.
//
// A raw sample is deleted only once folded, so with r.Raw under an hour
// the current hour's samples stay until the hour is over.
func (d *DB) PruneUsage(ctx context.Context, now time.Time, r Retention) (int, error) {
	if r.Raw <= 0 || r.Hourly <= 0 {
		return 0, fmt.Errorf("prune usage: retention %s raw, %s hourly: both must be positive", r.Raw, r.Hourly)
	}
	nowMS := toMS(now)
	hourStart := nowMS - nowMS%hourMS

	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("prune usage: begin: %w", err)
	}
	defer tx.Rollback()
	// Two prunes side by side (two replicas) would fold the same samples
	// twice, each before the other marked them folded.
	if err := d.serialize(ctx, tx, usageLock); err != nil {
		return 0, fmt.Errorf("prune usage: %w", err)
	}
	if _, err := tx.ExecContext(ctx, foldUsage, hourStart); err != nil {
		return 0, fmt.Errorf("prune usage: fold hours: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE usage_samples SET folded = 1 WHERE folded = 0 AND at < $1`, hourStart); err != nil {
		return 0, fmt.Errorf("prune usage: mark folded: %w", err)
	}
	raw, rerr := tx.ExecContext(ctx, `DELETE FROM usage_samples WHERE folded = 1 AND at < $1`,
		toMS(now.Add(-r.Raw)))
	if rerr != nil {
		return 0, fmt.Errorf("prune usage: delete raw samples: %w", rerr)
	}
	hourly, herr := tx.ExecContext(ctx, `DELETE FROM usage_hourly WHERE hour <= $1`,
		toMS(now.Add(-r.Hourly))-hourMS)
	if herr != nil {
		return 0, fmt.Errorf("prune usage: delete hourly rows: %w", herr)
	}
	nRaw, rerr := raw.RowsAffected()
	nHourly, herr := hourly.RowsAffected()
	if err := errors.Join(rerr, herr); err != nil {
		return 0, fmt.Errorf("prune usage: count deleted rows: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("prune usage: commit: %w", err)
	}
	return int(nRaw + nHourly), nil
}
