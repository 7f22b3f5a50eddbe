package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestInsertAndLatestSample(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := d.LatestSample(ctx); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("LatestSample on empty = %v, want ErrNotFound", err)
		}
		tests := []struct {
			name    string
			sample  db.Sample
			wantErr bool
		}{
			{name: "start", sample: db.Sample{Low: 32768, High: 60999, Source: db.SourceStart}},
			{name: "external", sample: db.Sample{Low: 1024, High: 65535, Source: db.SourceExternal}},
			{name: "unknown source is refused", sample: db.Sample{Low: 1, High: 2, Source: "guess"}, wantErr: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, err := d.InsertSample(ctx, tt.sample)
				if tt.wantErr {
					if err == nil {
						t.Fatal("InsertSample succeeded, want error")
					}
					return
				}
				if err != nil {
					t.Fatalf("InsertSample: %v", err)
				}
				latest, err := d.LatestSample(ctx)
				if err != nil || latest != s {
					t.Errorf("LatestSample = %+v, %v; want %+v", latest, err, s)
				}
			})
		}
	})
}

func TestSamplesSince(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		// Inserted out of time order on purpose: the result follows at, not id.
		for _, m := range []int{20, 0, 10, 30} {
			_, err := d.InsertSample(ctx, db.Sample{At: t0.Add(time.Duration(m) * time.Minute),
				Low: 30000 + m, High: 60999, Source: db.SourceSample})
			if err != nil {
				t.Fatalf("insert sample at +%dm: %v", m, err)
			}
		}
		tests := []struct {
			name  string
			since time.Duration
			want  []int // minutes after t0
		}{
			{name: "between samples: the one before comes first", since: 15 * time.Minute, want: []int{10, 20, 30}},
			{name: "exactly on a sample: it counts as since", since: 10 * time.Minute, want: []int{0, 10, 20, 30}},
			{name: "before every sample: nothing before", since: -time.Hour, want: []int{0, 10, 20, 30}},
			{name: "after every sample: only the last one", since: time.Hour, want: []int{30}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := d.SamplesSince(ctx, t0.Add(tt.since))
				if err != nil {
					t.Fatalf("SamplesSince: %v", err)
				}
				var minutes []int
				for _, s := range got {
					minutes = append(minutes, int(s.At.Sub(t0)/time.Minute))
				}
				if !equal(minutes, tt.want) {
					t.Errorf("SamplesSince(+%v) at minutes %v, want %v", tt.since, minutes, tt.want)
				}
			})
		}
	})
}

func TestSamplesSinceEmpty(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		got, err := d.SamplesSince(context.Background(), time.Now())
		if err != nil || len(got) != 0 {
			t.Errorf("SamplesSince on empty = %v, %v; want none", got, err)
		}
	})
}
