package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// HostReport is what the control plane stores of an accepted report.
type HostReport struct {
	At          time.Time // the control plane's clock
	Version     string
	PollSeconds int
	ObserveOnly bool
	Observed    []byte      // JSON agentapi.Observed
	Result      *HostResult // the newest generation's outcome, if the report has one
	// Settled are generations the agent no longer needs confirmed
	// (confirmed, reverted or failed): they leave Host.Confirm.
	Settled []int64
	Sample  *HostSample // the runtime range observed, for the host's history
	// SampleEvery thins the history: Sample is stored only when the range
	// or reserved ports changed since the host's last stored sample, or
	// that one is at least SampleEvery old (0: always).
	SampleEvery time.Duration
}

// HostSample is one observation of a host's runtime range.
type HostSample struct {
	ID            int64
	HostID        int64
	At            time.Time
	Low, High     int
	ReservedPorts string
	InUse         *int   // sockets in the range, when counted
	Risk          string // ok, warning, critical, or "" when not counted
}

// RecordHostReport stores report r of host id (identity comes from the
// caller's verified signature). A result for a generation older than the
// one stored is kept out: results only move forward.
func (d *DB) RecordHostReport(ctx context.Context, id int64, r HostReport) (Host, error) {
	at := orNow(r.At)
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Host{}, fmt.Errorf("record report of host %d: begin: %w", id, err)
	}
	defer tx.Rollback()
	h, err := lockedHost(ctx, tx, "id", id)
	if err != nil {
		return Host{}, fmt.Errorf("record report: %w", notFound(err, "host %d", id))
	}
	h.AgentVersion, h.PollSeconds, h.ObserveOnly = r.Version, r.PollSeconds, r.ObserveOnly
	h.Report, h.ReportedAt = r.Observed, &at
	if res := r.Result; res != nil && res.Generation >= h.Applied.Generation {
		h.Applied = HostResult{Generation: res.Generation, State: res.State, Error: res.Error,
			At: normTime(res.At), Deadline: normTime(res.Deadline)}
	}
	kept := h.Confirm[:0:0]
	for _, g := range h.Confirm {
		if !containsGen(r.Settled, g) {
			kept = append(kept, g)
		}
	}
	h.Confirm = kept
	confirm, _ := json.Marshal(append([]int64{}, h.Confirm...))
	var observed any
	if h.Report != nil {
		observed = string(h.Report)
	}
	_, err = tx.ExecContext(ctx, `UPDATE hosts SET agent_version = $1, poll_seconds = $2, observe_only = $3,
		report = $4, reported_at = $5, confirm = $6, applied_generation = $7, applied_state = $8,
		applied_error = $9, applied_at = $10, applied_deadline = $11 WHERE id = $12`,
		h.AgentVersion, h.PollSeconds, boolInt(h.ObserveOnly), observed, toMS(at), string(confirm),
		h.Applied.Generation, h.Applied.State, h.Applied.Error, msOrNil(h.Applied.At), msOrNil(h.Applied.Deadline), id)
	if err != nil {
		return Host{}, fmt.Errorf("record report of host %q: %w", h.Name, err)
	}
	if s := r.Sample; s != nil {
		s.HostID, s.At = id, at
		keep, err := sampleDue(ctx, tx, *s, r.SampleEvery)
		if err != nil {
			return Host{}, fmt.Errorf("record report of host %q: %w", h.Name, err)
		}
		if keep {
			if _, err := tx.ExecContext(ctx, `INSERT INTO host_samples (host_id, at, low, high, reserved_ports, in_use, risk)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, toMS(at), s.Low, s.High, s.ReservedPorts, intOrNil(s.InUse), s.Risk); err != nil {
				return Host{}, fmt.Errorf("record report of host %q: store sample: %w", h.Name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return Host{}, fmt.Errorf("record report of host %q: commit: %w", h.Name, err)
	}
	return h, nil
}

// sampleDue says whether s joins its host's history (see SampleEvery).
func sampleDue(ctx context.Context, tx *sql.Tx, s HostSample, every time.Duration) (bool, error) {
	var last HostSample
	var at int64
	err := tx.QueryRowContext(ctx, `SELECT at, low, high, reserved_ports FROM host_samples
		WHERE host_id = $1 ORDER BY at DESC, id DESC LIMIT 1`, s.HostID).Scan(&at, &last.Low, &last.High, &last.ReservedPorts)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read last sample: %w", err)
	}
	changed := last.Low != s.Low || last.High != s.High || last.ReservedPorts != s.ReservedPorts
	return changed || toMS(s.At)-at >= every.Milliseconds(), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

const hostSampleColumns = `id, host_id, at, low, high, reserved_ports, in_use, risk`

func scanHostSample(row interface{ Scan(...any) error }) (HostSample, error) {
	var s HostSample
	var at int64
	var inUse sql.NullInt64
	if err := row.Scan(&s.ID, &s.HostID, &at, &s.Low, &s.High, &s.ReservedPorts, &inUse, &s.Risk); err != nil {
		return HostSample{}, err
	}
	s.At = fromMS(at)
	if inUse.Valid {
		n := int(inUse.Int64)
		s.InUse = &n
	}
	return s, nil
}

// HostSamplesSince returns host id's samples taken at or after since,
// oldest first, preceded by the last one before since, if any (as
// SamplesSince does for the local host).
func (d *DB) HostSamplesSince(ctx context.Context, id int64, since time.Time) ([]HostSample, error) {
	ms := toMS(since)
	rows, err := d.sql.QueryContext(ctx, `
		SELECT `+hostSampleColumns+` FROM (
			SELECT `+hostSampleColumns+` FROM host_samples WHERE host_id = $1 AND at < $2
			ORDER BY at DESC, id DESC LIMIT 1
		) AS edge
		UNION ALL
		SELECT `+hostSampleColumns+` FROM host_samples WHERE host_id = $1 AND at >= $2
		ORDER BY at, id`, id, ms)
	if err != nil {
		return nil, fmt.Errorf("list samples of host %d: %w", id, err)
	}
	return collect(rows, scanHostSample, fmt.Sprintf("list samples of host %d", id))
}

// PruneHostSamples deletes every host's samples taken before before and
// returns how many it deleted. serve runs it with --retain-raw, the
// retention of the local host's raw samples.
func (d *DB) PruneHostSamples(ctx context.Context, before time.Time) (int, error) {
	return d.deleteCounted(ctx, "prune host samples", `DELETE FROM host_samples WHERE at < $1`, toMS(before))
}
