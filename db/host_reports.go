package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
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
	// Limit bounds how often the host's reports are accepted (zero: no
	// bound).
	Limit ReportLimit
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

// ErrRateLimited is a report refused by HostReport.Limit.
var ErrRateLimited = errors.New("reporting faster than allowed")

// ReportLimit bounds how often one host's reports are accepted: Every on
// average, Burst at once.
type ReportLimit struct {
	Every time.Duration
	Burst int
}

// RecordHostReport stores report r of host id (identity comes from the
// caller's verified signature). A result for a generation older than the
// one stored is kept out: results only move forward. A report over
// r.Limit is ErrRateLimited and changes nothing.
//
// It is one UPDATE of the host's row, limit included, so the limit holds
// across replicas at no extra cost, plus one conditional INSERT of the
// sample, and, only when the report settles confirmations the row holds,
// a compare-and-set of those. On PostgreSQL no transaction wraps them (a
// sample lost to an error after the row was written costs one point of
// history, which the next report fills); on SQLite one does, since there
// each commit is a sync to disk.
func (d *DB) RecordHostReport(ctx context.Context, id int64, r HostReport) (Host, error) {
	var q queryer = d.sql
	if d.dialect == SQLite {
		tx, err := d.sql.BeginTx(ctx, nil)
		if err != nil {
			return Host{}, fmt.Errorf("record report of host %d: begin: %w", id, err)
		}
		defer tx.Rollback()
		q = tx
	}
	h, err := d.recordHostReport(ctx, q, id, r)
	if tx, ok := q.(*sql.Tx); ok && err == nil {
		if err := tx.Commit(); err != nil {
			return Host{}, fmt.Errorf("record report of host %d: commit: %w", id, err)
		}
	}
	return h, err
}

func (d *DB) recordHostReport(ctx context.Context, q queryer, id int64, r HostReport) (Host, error) {
	at := toMS(orNow(r.At))
	gen, res := int64(-1), HostResult{}
	if r.Result != nil {
		gen, res = r.Result.Generation, *r.Result
	}
	// The limit is a generic cell rate algorithm: report_tat is when the
	// host's next report would be on schedule; one may come up to
	// Every*(Burst-1) early. Unlimited: no report is early.
	every, early := r.Limit.Every.Milliseconds(), int64(math.MaxInt64/2)
	if r.Limit.Every > 0 {
		early = every * int64(max(r.Limit.Burst, 1)-1)
	}
	var observed any
	if r.Observed != nil {
		observed = string(r.Observed)
	}
	// The report comes back as NULL: the caller has it, and it is the
	// row's bulk.
	h, err := scanHost(q.QueryRowContext(ctx, `UPDATE hosts SET agent_version = $1, poll_seconds = $2,
		observe_only = $3, report = $4, reported_at = $5,
		applied_generation = CASE WHEN $6 >= applied_generation THEN $6 ELSE applied_generation END,
		applied_state = CASE WHEN $6 >= applied_generation THEN $7 ELSE applied_state END,
		applied_error = CASE WHEN $6 >= applied_generation THEN $8 ELSE applied_error END,
		applied_at = CASE WHEN $6 >= applied_generation THEN $9 ELSE applied_at END,
		applied_deadline = CASE WHEN $6 >= applied_generation THEN $10 ELSE applied_deadline END,
		report_tat = CASE WHEN report_tat > $5 THEN report_tat ELSE $5 END + $11
		WHERE id = $12 AND report_tat <= $13
		RETURNING `+hostColumnsNoReport,
		r.Version, r.PollSeconds, boolInt(r.ObserveOnly), observed, at,
		gen, res.State, res.Error, msOrNil(res.At), msOrNil(res.Deadline), every, id, at+early))
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := hostName(ctx, q, id); err != nil {
			return Host{}, fmt.Errorf("record report: %w", err)
		}
		return Host{}, fmt.Errorf("record report of host %d: %w", id, ErrRateLimited)
	}
	if err != nil {
		return Host{}, fmt.Errorf("record report of host %d: %w", id, err)
	}
	h.Report = r.Observed
	if h.Confirm, err = settle(ctx, q, id, h.Confirm, r.Settled); err != nil {
		return Host{}, fmt.Errorf("record report of host %q: %w", h.Name, err)
	}
	if s := r.Sample; s != nil {
		// Stored unless the host's last sample is as recent as
		// SampleEvery and shows the same.
		if _, err := q.ExecContext(ctx, `INSERT INTO host_samples (host_id, at, low, high, reserved_ports, in_use, risk)
			SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM (
				SELECT at, low, high, reserved_ports FROM host_samples WHERE host_id = $1 ORDER BY at DESC, id DESC LIMIT 1
			) AS last WHERE last.at > $8 AND last.low = $3 AND last.high = $4 AND last.reserved_ports = $5)`,
			id, at, s.Low, s.High, s.ReservedPorts, intOrNil(s.InUse), s.Risk, at-r.SampleEvery.Milliseconds()); err != nil {
			return Host{}, fmt.Errorf("record report of host %q: store sample: %w", h.Name, err)
		}
	}
	return h, nil
}

// hostColumnsNoReport is hostColumns with NULL for the report.
var hostColumnsNoReport = strings.Replace(hostColumns, " report,", " NULL,", 1)

func hostName(ctx context.Context, q queryer, id int64) (string, error) {
	var name string
	err := q.QueryRowContext(ctx, `SELECT name FROM hosts WHERE id = $1`, id).Scan(&name)
	return name, notFound(err, "host %d", id)
}

// settle takes the generations settled out of host id's confirmations,
// which read confirm: a compare-and-set on the column, read again when a
// confirmation (ConfirmGeneration) slipped in between, so neither is lost.
func settle(ctx context.Context, q queryer, id int64, confirm, settled []int64) ([]int64, error) {
	for {
		kept := make([]int64, 0, len(confirm))
		for _, g := range confirm {
			if !containsGen(settled, g) {
				kept = append(kept, g)
			}
		}
		if len(kept) == len(confirm) {
			return confirm, nil
		}
		was, _ := json.Marshal(confirm)
		now, _ := json.Marshal(kept)
		res, err := q.ExecContext(ctx, `UPDATE hosts SET confirm = $1 WHERE id = $2 AND confirm = $3`, string(now), id, string(was))
		if err != nil {
			return nil, fmt.Errorf("settle confirmations: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return kept, err
		}
		var raw string
		if err := q.QueryRowContext(ctx, `SELECT confirm FROM hosts WHERE id = $1`, id).Scan(&raw); err != nil {
			return nil, fmt.Errorf("settle confirmations: read them again: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &confirm); err != nil {
			return nil, fmt.Errorf("settle confirmations: decode: %w", err)
		}
	}
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
