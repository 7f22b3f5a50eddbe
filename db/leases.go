package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// JobClaim asks to start a run of a periodic job that must run once per
// period across the replicas of the control plane.
type JobClaim struct {
	Job, Holder string // the job's name; who asks (a replica's id)
	Now         time.Time
	// Every is the job's period. The holder of the last run may start the
	// next one Slack before Every has passed since it started, others only
	// Slack after: a live holder keeps the job (one replica does a job's
	// runs, its log says so), a dead one loses it within about a period.
	Every, Slack time.Duration
	// Hold is the longest a run may take: until then no other replica
	// starts the job, even if the holder dies during the run. The holder's
	// own runs follow one another (one loop), so its hold never stops it.
	Hold time.Duration
}

// ClaimJob starts a run for c.Holder if the job is due for it and no run
// holds it, in one conditional upsert: of replicas asking at once, one
// gets the run. It reports whether the run is c.Holder's.
func (d *DB) ClaimJob(ctx context.Context, c JobClaim) (bool, error) {
	now := toMS(c.Now)
	var holder string
	err := d.sql.QueryRowContext(ctx, `INSERT INTO job_leases (name, holder, started_at, running_until) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, started_at = excluded.started_at, running_until = excluded.running_until
		WHERE (job_leases.holder = excluded.holder AND job_leases.started_at <= $6)
			OR (job_leases.started_at <= $5 AND job_leases.running_until <= $3)
		RETURNING holder`,
		c.Job, c.Holder, now, toMS(c.Now.Add(c.Hold)), toMS(c.Now.Add(-c.Every-c.Slack)), toMS(c.Now.Add(-c.Every+c.Slack))).Scan(&holder)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("claim job %q: %w", c.Job, err)
	}
	return true, nil
}

// ReleaseJob gives up holder's lease of job, so that another replica
// takes it at its next tick rather than when the lease runs out.
func (d *DB) ReleaseJob(ctx context.Context, job, holder string) error {
	if _, err := d.sql.ExecContext(ctx, `UPDATE job_leases SET started_at = 0, running_until = 0
		WHERE name = $1 AND holder = $2`, job, holder); err != nil {
		return fmt.Errorf("release job %q: %w", job, err)
	}
	return nil
}

// JobCursor returns how far job got in the log it reads (0 if it never
// said), and the replica that holds the job now.
func (d *DB) JobCursor(ctx context.Context, job string) (cursor int64, holder string, err error) {
	err = d.sql.QueryRowContext(ctx, `SELECT read_to, holder FROM job_leases WHERE name = $1`, job).Scan(&cursor, &holder)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read the cursor of job %q: %w", job, err)
	}
	return cursor, holder, nil
}

// AdvanceJobCursor moves job's cursor to cursor, never back: a replica
// that read less than another must not make the next one read it again.
func (d *DB) AdvanceJobCursor(ctx context.Context, job string, cursor int64) error {
	if _, err := d.sql.ExecContext(ctx, `UPDATE job_leases SET read_to = $1 WHERE name = $2 AND read_to < $1`, cursor, job); err != nil {
		return fmt.Errorf("advance the cursor of job %q: %w", job, err)
	}
	return nil
}
