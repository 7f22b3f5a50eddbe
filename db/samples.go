package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// InsertSample stores an observation of the runtime range. A zero s.At
// means now.
func (d *DB) InsertSample(ctx context.Context, s Sample) (Sample, error) {
	return insertSample(ctx, d.sql, s)
}

// insertSample leaves checking Source to the table's CHECK, so a bad value
// fails inside RecordChange's transaction too and undoes the change.
func insertSample(ctx context.Context, q queryer, s Sample) (Sample, error) {
	s.At = orNow(s.At)
	err := q.QueryRowContext(ctx,
		`INSERT INTO samples (at, low, high, source, reserved_ports) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		toMS(s.At), s.Low, s.High, s.Source, s.ReservedPorts).Scan(&s.ID)
	if err != nil {
		return Sample{}, fmt.Errorf("insert sample (source %q): %w", s.Source, err)
	}
	return s, nil
}

const sampleColumns = `id, at, low, high, source, reserved_ports`

func scanSample(row interface{ Scan(...any) error }) (Sample, error) {
	var s Sample
	var at int64
	var reserved sql.NullString
	if err := row.Scan(&s.ID, &at, &s.Low, &s.High, &s.Source, &reserved); err != nil {
		return Sample{}, err
	}
	s.At = fromMS(at)
	s.ReservedPorts = stringOrNil(reserved)
	return s, nil
}

// LatestSample returns the most recent sample, or ErrNotFound if there is
// none yet.
func (d *DB) LatestSample(ctx context.Context) (Sample, error) {
	// By id, not at: the newest row written is the latest observation even
	// if the clock stepped back.
	s, err := scanSample(d.sql.QueryRowContext(ctx,
		`SELECT `+sampleColumns+` FROM samples ORDER BY id DESC LIMIT 1`))
	return s, notFound(err, "latest sample")
}

// Samples returns up to limit samples, newest first, with ids below
// beforeID (0: from the newest). Limits as for Changes.
func (d *DB) Samples(ctx context.Context, limit int, beforeID int64) ([]Sample, error) {
	rows, err := d.sql.QueryContext(ctx,
		`SELECT `+sampleColumns+` FROM samples WHERE id < $1 ORDER BY id DESC LIMIT $2`,
		beforeOrMax(beforeID), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list samples: %w", err)
	}
	return collect(rows, scanSample, "list samples")
}

// SamplesSince returns the samples taken at or after since, oldest first,
// preceded by the last sample before since, if any: a chart starting at
// since then knows the value at its left edge.
func (d *DB) SamplesSince(ctx context.Context, since time.Time) ([]Sample, error) {
	ms := toMS(since)
	rows, err := d.sql.QueryContext(ctx, `
		SELECT `+sampleColumns+` FROM (
			SELECT `+sampleColumns+` FROM samples WHERE at < $1 ORDER BY at DESC, id DESC LIMIT 1
		) AS edge
		UNION ALL
		SELECT `+sampleColumns+` FROM samples WHERE at >= $1
		ORDER BY at, id`, ms)
	if err != nil {
		return nil, fmt.Errorf("list samples since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return collect(rows, scanSample, "list samples since "+since.UTC().Format(time.RFC3339))
}
