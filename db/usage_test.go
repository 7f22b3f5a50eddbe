package db_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// hour0 is the start of an hour: the prune and chart tests count from it.
var hour0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// usageAt is a sample at hour0+offset; the other fields are derived from
// inUse so aggregates are easy to predict.
func usageAt(offset time.Duration, inUse int) db.UsageSample {
	return db.UsageSample{At: hour0.Add(offset), Source: db.UsageSourceNetlink,
		RangeLow: 32768, RangeHigh: 60999, Capacity: 28000 - inUse, InUse: inUse,
		TimeWait: inUse / 2, BusiestRisk: float64(inUse) / 1000}
}

func insertUsage(t *testing.T, d *db.DB, samples ...db.UsageSample) {
	t.Helper()
	for _, u := range samples {
		if _, err := d.InsertUsage(context.Background(), u); err != nil {
			t.Fatalf("insert usage at %s: %v", u.At.Format(time.TimeOnly), err)
		}
	}
}

func TestUsageRoundTrip(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := d.LatestUsage(ctx); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("LatestUsage on empty = %v, want ErrNotFound", err)
		}
		var twelve []db.UsageDestination
		for i := range 12 {
			twelve = append(twelve, db.UsageDestination{LocalIP: "10.0.0.1",
				Destination: fmt.Sprintf("10.0.1.%d:443", i), Sockets: 100 - i, Risk: float64(100-i) / 28000})
		}
		tests := []struct {
			name    string
			sample  db.UsageSample
			want    func(db.UsageSample) db.UsageSample // from the input; nil: unchanged
			wantErr string                              // in the error; "": none
		}{
			{name: "every field set", sample: db.UsageSample{
				At:     time.Date(2026, 6, 1, 12, 0, 0, 123_456_789, time.FixedZone("CEST", 2*3600)),
				Source: db.UsageSourceNetlink, RangeLow: 32768, RangeHigh: 60999, Capacity: 28000,
				InUse: 1500, Bound: 3, UDP: 7, TCPTotal: 1600, TimeWait: 900, Established: 550,
				BusiestDestination: "[2001:db8::1]:5432", BusiestSockets: 1200, BusiestRisk: 1200.0 / 28000,
				SharedUse: 0.0125, TCPStates: map[string]int{"ESTABLISHED": 550, "TIME_WAIT": 900, "LISTEN": 3},
				Destinations: []db.UsageDestination{
					{LocalIP: "2001:db8::2", Destination: "[2001:db8::1]:5432", Sockets: 1200, Risk: 1200.0 / 28000},
					{LocalIP: "10.0.0.1", Destination: "10.0.0.9:80", Sockets: 300, Risk: 300.0 / 28000},
				}},
				want: func(u db.UsageSample) db.UsageSample {
					u.At = time.Date(2026, 6, 1, 10, 0, 0, 123_000_000, time.UTC) // ms, UTC
					return u
				}},
			{name: "empty maps and lists read back as nil", sample: db.UsageSample{At: hour0,
				Source: db.UsageSourceProc, TCPStates: map[string]int{}, Destinations: []db.UsageDestination{}},
				want: func(u db.UsageSample) db.UsageSample {
					u.TCPStates, u.Destinations = nil, nil
					return u
				}},
			{name: "only the top destinations are kept", sample: db.UsageSample{At: hour0,
				Source: db.UsageSourceNetlink, Destinations: twelve},
				want: func(u db.UsageSample) db.UsageSample {
					u.Destinations = twelve[:db.MaxUsageDestinations]
					return u
				}},
			{name: "unknown source is refused", sample: db.UsageSample{At: hour0, Source: "ss"}, wantErr: "check"},
			{name: "NaN risk (zero capacity) is refused", sample: db.UsageSample{At: hour0,
				Source: db.UsageSourceProc, BusiestRisk: math.NaN()}, wantErr: "busiest risk is NaN"},
			{name: "infinite destination risk is refused", sample: db.UsageSample{At: hour0, Source: db.UsageSourceProc,
				Destinations: []db.UsageDestination{{Destination: "10.0.0.9:80", Sockets: 1, Risk: math.Inf(1)}}},
				wantErr: "risk of 10.0.0.9:80 is +Inf"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := d.InsertUsage(ctx, tt.sample)
				if tt.wantErr != "" {
					// Case aside: SQLite says CHECK, PostgreSQL check.
					if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.wantErr)) {
						t.Fatalf("InsertUsage = %v, want an error saying %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("InsertUsage: %v", err)
				}
				want := tt.want(tt.sample)
				want.ID = got.ID
				if got.ID == 0 || !reflect.DeepEqual(got, want) {
					t.Errorf("InsertUsage returned\n%+v\nwant\n%+v", got, want)
				}
				latest, err := d.LatestUsage(ctx)
				if err != nil || !reflect.DeepEqual(latest, got) {
					t.Errorf("LatestUsage = %+v, %v;\nwant what InsertUsage returned, %+v", latest, err, got)
				}
			})
		}
	})
}

func TestUsageSince(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		insertUsage(t, d, usageAt(10*time.Minute, 10), usageAt(40*time.Minute, 30),
			usageAt(65*time.Minute, 6), usageAt(130*time.Minute, 100))
		if _, err := d.PruneUsage(ctx, hour0.Add(150*time.Minute),
			db.Retention{Raw: 7 * 24 * time.Hour, Hourly: 365 * 24 * time.Hour}); err != nil {
			t.Fatalf("PruneUsage: %v", err)
		}
		raw := func(minute, inUse int) db.UsagePoint {
			u := usageAt(time.Duration(minute)*time.Minute, inUse)
			return db.UsagePoint{At: u.At, RangeLow: 32768, RangeHigh: 60999, Capacity: u.Capacity,
				InUseMax: inUse, TimeWaitMax: u.TimeWait,
				BusiestRisk: u.BusiestRisk}
		}
		hour0Point := db.UsagePoint{At: hour0, RangeLow: 32768, RangeHigh: 60999, Capacity: 28000 - 30,
			InUseMax: 30, TimeWaitMax: 15, BusiestRisk: 0.03, Hourly: true}
		hour1Point := db.UsagePoint{At: hour0.Add(time.Hour), RangeLow: 32768, RangeHigh: 60999,
			Capacity: 28000 - 6, InUseMax: 6, TimeWaitMax: 3, BusiestRisk: 0.006, Hourly: true}
		tests := []struct {
			name   string
			since  time.Duration
			hourly bool
			want   []db.UsagePoint
		}{
			{name: "raw: samples at or after since, oldest first", since: 40 * time.Minute,
				want: []db.UsagePoint{raw(40, 30), raw(65, 6), raw(130, 100)}},
			{name: "raw: from before the first sample", since: -time.Hour,
				want: []db.UsagePoint{raw(10, 10), raw(40, 30), raw(65, 6), raw(130, 100)}},
			{name: "hourly: the hour containing since is included", since: 30 * time.Minute, hourly: true,
				want: []db.UsagePoint{hour0Point, hour1Point}},
			{name: "hourly: an hour ending at since is not", since: time.Hour, hourly: true,
				want: []db.UsagePoint{hour1Point}},
			{name: "hourly: the current hour is not folded yet", since: 2 * time.Hour, hourly: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := d.UsageSince(ctx, hour0.Add(tt.since), tt.hourly)
				if err != nil {
					t.Fatalf("UsageSince: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("UsageSince(+%v, %t) =\n%+v\nwant\n%+v", tt.since, tt.hourly, got, tt.want)
				}
			})
		}
	})
}
