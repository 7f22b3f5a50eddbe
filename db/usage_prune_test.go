package db_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// hourAgg is what a test checks of a usage_hourly row.
type hourAgg struct {
	Samples  int
	InUseAvg float64
	InUseMax int
	RangeLow int
}

// hourlyRows reads usage_hourly directly: UsagePoint does not carry the
// sample count, and the count is what double counting would change.
func hourlyRows(t *testing.T, d *db.DB) map[time.Duration]hourAgg {
	t.Helper()
	rows, err := d.SQL().Query(`SELECT hour, samples, in_use_avg, in_use_max, range_low FROM usage_hourly`)
	if err != nil {
		t.Fatalf("read usage_hourly: %v", err)
	}
	defer rows.Close()
	out := map[time.Duration]hourAgg{}
	for rows.Next() {
		var hour int64
		var a hourAgg
		if err := rows.Scan(&hour, &a.Samples, &a.InUseAvg, &a.InUseMax, &a.RangeLow); err != nil {
			t.Fatalf("scan usage_hourly: %v", err)
		}
		out[time.UnixMilli(hour).Sub(hour0)] = a
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read usage_hourly: %v", err)
	}
	return out
}

func rawCount(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.SQL().QueryRow(`SELECT COUNT(*) FROM usage_samples`).Scan(&n); err != nil {
		t.Fatalf("count usage_samples: %v", err)
	}
	return n
}

func withRange(u db.UsageSample, low int) db.UsageSample {
	u.RangeLow = low
	return u
}

// TestPruneUsage runs its steps in order on one database: each starts from
// what the previous left.
func TestPruneUsage(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := time.Minute
		keep := db.Retention{Raw: time.Hour, Hourly: 3 * time.Hour}
		steps := []struct {
			name        string
			insert      []db.UsageSample
			now         time.Duration
			wantDeleted int
			wantHours   map[time.Duration]hourAgg
			wantRaw     int
		}{
			{name: "the current hour is not folded",
				insert: []db.UsageSample{usageAt(0, 10), usageAt(15*m, 20), usageAt(30*m, 30), usageAt(45*m, 40)},
				now:    50 * m, wantHours: map[time.Duration]hourAgg{}, wantRaw: 4},
			{name: "a finished hour is folded whole, then raw rows past retention go, mid-hour",
				now: 80 * m, wantDeleted: 2, wantRaw: 2,
				wantHours: map[time.Duration]hourAgg{0: {Samples: 4, InUseAvg: 25, InUseMax: 40, RangeLow: 32768}}},
			{name: "a second call at once changes nothing",
				now: 80 * m, wantDeleted: 0, wantRaw: 2,
				wantHours: map[time.Duration]hourAgg{0: {Samples: 4, InUseAvg: 25, InUseMax: 40, RangeLow: 32768}}},
			{name: "a late sample joins the partly pruned hour; its survivors are not counted again",
				// 00:05 is older than the hour's last sample, so its range
				// must not replace the last sample's.
				insert: []db.UsageSample{withRange(usageAt(5*m, 50), 1024), usageAt(90*m, 60)},
				now:    130 * m, wantDeleted: 3, wantRaw: 1,
				wantHours: map[time.Duration]hourAgg{
					0:         {Samples: 5, InUseAvg: 30, InUseMax: 50, RangeLow: 32768},
					time.Hour: {Samples: 1, InUseAvg: 60, InUseMax: 60, RangeLow: 32768}}},
			{name: "a late sample after the hour's last one sets its range",
				insert: []db.UsageSample{withRange(usageAt(55*m, 0), 40000)},
				now:    140 * m, wantDeleted: 1, wantRaw: 1,
				wantHours: map[time.Duration]hourAgg{
					0:         {Samples: 6, InUseAvg: 25, InUseMax: 50, RangeLow: 40000},
					time.Hour: {Samples: 1, InUseAvg: 60, InUseMax: 60, RangeLow: 32768}}},
			{name: "hourly rows go once their hour ended Hourly ago",
				now: 4 * time.Hour, wantDeleted: 2, wantRaw: 0,
				wantHours: map[time.Duration]hourAgg{
					time.Hour: {Samples: 1, InUseAvg: 60, InUseMax: 60, RangeLow: 32768}}},
		}
		for _, s := range steps {
			insertUsage(t, d, s.insert...)
			n, err := d.PruneUsage(ctx, hour0.Add(s.now), keep)
			if err != nil {
				t.Fatalf("%s: PruneUsage: %v", s.name, err)
			}
			if n != s.wantDeleted {
				t.Errorf("%s: PruneUsage deleted %d rows, want %d", s.name, n, s.wantDeleted)
			}
			if got := hourlyRows(t, d); !reflect.DeepEqual(got, s.wantHours) {
				t.Errorf("%s: hourly rows %v, want %v", s.name, got, s.wantHours)
			}
			if got := rawCount(t, d); got != s.wantRaw {
				t.Errorf("%s: %d raw samples left, want %d", s.name, got, s.wantRaw)
			}
		}
	})
}

// TestPruneUsageKeepsUnfoldedSamples: with raw retention under an hour, a
// sample of the current hour outlives it until its hour is folded, or the
// hourly history would miss it.
func TestPruneUsageKeepsUnfoldedSamples(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		keep := db.Retention{Raw: 10 * time.Minute, Hourly: 24 * time.Hour}
		insertUsage(t, d, usageAt(2*time.Hour+5*time.Minute, 10))
		if n, err := d.PruneUsage(ctx, hour0.Add(2*time.Hour+50*time.Minute), keep); err != nil || n != 0 {
			t.Errorf("prune within the sample's hour = %d, %v; want 0 deleted", n, err)
		}
		if n, err := d.PruneUsage(ctx, hour0.Add(3*time.Hour+time.Minute), keep); err != nil || n != 1 {
			t.Errorf("prune after the hour = %d, %v; want 1 deleted", n, err)
		}
		want := map[time.Duration]hourAgg{2 * time.Hour: {Samples: 1, InUseAvg: 10, InUseMax: 10, RangeLow: 32768}}
		if got := hourlyRows(t, d); !reflect.DeepEqual(got, want) {
			t.Errorf("hourly rows %v, want %v", got, want)
		}
	})
}

func TestPruneUsageRefusesNonPositiveRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, r := range []db.Retention{{}, {Raw: time.Hour}, {Hourly: time.Hour}, {Raw: -time.Hour, Hourly: time.Hour}} {
			if _, err := d.PruneUsage(context.Background(), hour0, r); err == nil {
				t.Errorf("PruneUsage(%+v) succeeded; want an error rather than deleting everything", r)
			}
		}
	})
}
