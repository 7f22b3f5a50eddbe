package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

const usageColumns = `id, at, source, range_low, range_high, capacity, in_use, bound, udp,
	tcp_total, time_wait, established, busiest_destination, busiest_sockets, busiest_risk,
	shared_use, tcp_states, destinations`

// InsertUsage stores a usage snapshot and returns it as a later read
// returns it. A zero u.At means now. Destinations beyond
// MaxUsageDestinations are dropped (the caller passes the busiest first):
// the history needs the top few, and a host with thousands of
// destinations must not grow every row.
func (d *DB) InsertUsage(ctx context.Context, u UsageSample) (UsageSample, error) {
	u.At = orNow(u.At)
	if err := finiteShares(u); err != nil {
		return UsageSample{}, fmt.Errorf("insert usage: %w", err)
	}
	if len(u.Destinations) > MaxUsageDestinations {
		u.Destinations = u.Destinations[:MaxUsageDestinations:MaxUsageDestinations]
	}
	if len(u.TCPStates) == 0 {
		u.TCPStates = nil
	}
	if len(u.Destinations) == 0 {
		u.Destinations = nil
	}
	// Empty is stored as "{}" and "[]", not "null", so other readers of the
	// columns (sqlite3, a later PostgreSQL json cast) see the right type.
	states, dests := []byte("{}"), []byte("[]")
	var serr, derr error
	if u.TCPStates != nil {
		states, serr = json.Marshal(u.TCPStates)
	}
	if u.Destinations != nil {
		dests, derr = json.Marshal(u.Destinations)
	}
	if err := errors.Join(serr, derr); err != nil {
		return UsageSample{}, fmt.Errorf("insert usage: encode: %w", err)
	}
	args := []any{toMS(u.At), u.Source, u.RangeLow, u.RangeHigh, u.Capacity, u.InUse, u.Bound,
		u.UDP, u.TCPTotal, u.TimeWait, u.Established, u.BusiestDestination, u.BusiestSockets,
		u.BusiestRisk, u.SharedUse, string(states), string(dests)}
	// The table's CHECK refuses an unknown source.
	err := d.sql.QueryRowContext(ctx, `INSERT INTO usage_samples (`+
		strings.TrimPrefix(usageColumns, "id, ")+`) VALUES (`+params(1, len(args))+
		`) RETURNING id`, args...).Scan(&u.ID)
	if err != nil {
		return UsageSample{}, fmt.Errorf("insert usage (source %q): %w", u.Source, err)
	}
	return u, nil
}

// finiteShares refuses NaN and ±Inf, which a zero capacity makes of a
// ratio: SQLite would store NaN as NULL (failing NOT NULL) and JSON
// cannot encode either, so say what is wrong instead.
func finiteShares(u UsageSample) error {
	check := func(what string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s is %v (capacity %d), want a finite share", what, v, u.Capacity)
		}
		return nil
	}
	errs := []error{check("busiest risk", u.BusiestRisk), check("shared use", u.SharedUse)}
	for _, dst := range u.Destinations {
		errs = append(errs, check("risk of "+dst.Destination, dst.Risk))
	}
	return errors.Join(errs...)
}

// LatestUsage returns the most recent usage sample, or ErrNotFound if
// there is none yet.
func (d *DB) LatestUsage(ctx context.Context) (UsageSample, error) {
	// By id, as LatestSample: the newest row written is the latest
	// observation even if the clock stepped back.
	u, err := scanUsage(d.sql.QueryRowContext(ctx,
		`SELECT `+usageColumns+` FROM usage_samples ORDER BY id DESC LIMIT 1`))
	return u, notFound(err, "latest usage")
}

func scanUsage(row interface{ Scan(...any) error }) (UsageSample, error) {
	var u UsageSample
	var at int64
	var states, dests string
	err := row.Scan(&u.ID, &at, &u.Source, &u.RangeLow, &u.RangeHigh, &u.Capacity, &u.InUse,
		&u.Bound, &u.UDP, &u.TCPTotal, &u.TimeWait, &u.Established, &u.BusiestDestination,
		&u.BusiestSockets, &u.BusiestRisk, &u.SharedUse, &states, &dests)
	if err != nil {
		return UsageSample{}, err
	}
	u.At = fromMS(at)
	serr := json.Unmarshal([]byte(states), &u.TCPStates)
	derr := json.Unmarshal([]byte(dests), &u.Destinations)
	if err := errors.Join(serr, derr); err != nil {
		return UsageSample{}, fmt.Errorf("decode usage sample %d: %w", u.ID, err)
	}
	if len(u.TCPStates) == 0 {
		u.TCPStates = nil
	}
	if len(u.Destinations) == 0 {
		u.Destinations = nil
	}
	return u, nil
}
