package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func claim(job, holder string, now time.Time) db.JobClaim {
	return db.JobClaim{Job: job, Holder: holder, Now: now, Every: time.Minute, Slack: 5 * time.Second, Hold: 10 * time.Second}
}

func TestClaimJob(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	type step struct {
		holder  string
		at      time.Duration // after t0
		release bool          // release the job it claims
		want    bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the first claim wins", []step{{"a", 0, false, true}}},
		{"another replica is refused within the period", []step{{"a", 0, false, true}, {"b", 30 * time.Second, false, false}}},
		{"the holder runs again a period later", []step{{"a", 0, false, true}, {"a", time.Minute, false, true}}},
		{"the holder may run a little early", []step{{"a", 0, false, true}, {"a", 56 * time.Second, false, true}}},
		{"the holder may not run twice in a period", []step{{"a", 0, false, true}, {"a", 50 * time.Second, false, false}}},
		{"another replica is refused at the period while the holder may still come",
			[]step{{"a", 0, false, true}, {"b", time.Minute, false, false}}},
		{"another replica takes a job its holder missed", []step{{"a", 0, false, true}, {"b", 66 * time.Second, false, true}}},
		{"after a takeover the old holder is the other one",
			[]step{{"a", 0, false, true}, {"b", 66 * time.Second, false, true}, {"a", 2 * time.Minute, false, false}}},
		{"a released job goes to another replica at once", []step{{"a", 0, true, true}, {"b", time.Second, false, true}}},
		{"a release by another replica does nothing", []step{{"a", 0, false, true}, {"b", time.Second, true, false}, {"b", 2 * time.Second, false, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				for i, s := range tt.steps {
					now := t0.Add(s.at)
					got, err := d.ClaimJob(ctx, claim("prune", s.holder, now))
					if err != nil {
						t.Fatal(err)
					}
					if got != s.want {
						t.Fatalf("step %d: %s at +%v: claimed %v, want %v", i+1, s.holder, s.at, got, s.want)
					}
					if s.release {
						if err := d.ReleaseJob(ctx, "prune", s.holder); err != nil {
							t.Fatal(err)
						}
					}
				}
			})
		})
	}
}

// A hold longer than the period keeps the job from other replicas until
// it passes or the holder releases the job.
func TestClaimJobHeldByALongRun(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t0 := time.Now()
		long := func(holder string, at time.Duration) db.JobClaim {
			c := claim("verify", holder, t0.Add(at))
			c.Hold = 5 * time.Minute
			return c
		}
		for i, s := range []struct {
			c    db.JobClaim
			want bool
		}{{long("a", 0), true}, {long("b", 2*time.Minute), false}} {
			if got, err := d.ClaimJob(ctx, s.c); err != nil || got != s.want {
				t.Fatalf("claim %d (%s): %v, %v; want %v", i+1, s.c.Holder, got, err, s.want)
			}
		}
		if err := d.ReleaseJob(ctx, "verify", "a"); err != nil {
			t.Fatal(err)
		}
		if got, err := d.ClaimJob(ctx, long("b", 2*time.Minute)); err != nil || !got {
			t.Fatalf("after the release: %v, %v; want the claim", got, err)
		}
	})
}

// Jobs are claimed apart: one job's run does not hold another.
func TestClaimJobPerJob(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		now := time.Now()
		for _, job := range []string{"a", "b"} {
			if ok, err := d.ClaimJob(ctx, claim(job, "r1", now)); err != nil || !ok {
				t.Fatalf("job %s: claimed %v, %v; want a claim", job, ok, err)
			}
		}
	})
}

// Of many replicas asking at the same moment, exactly one gets the run.
func TestClaimJobRace(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		now := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 8 {
			wg.Go(func() {
				ok, err := d.ClaimJob(ctx, claim("sweep", string(rune('a'+i)), now))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d of 8 replicas claimed the run, want 1", won)
		}
	})
}

// A job's cursor says how far its last runner read; it never goes back.
func TestJobCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if c, h, err := d.JobCursor(ctx, "read"); err != nil || c != 0 || h != "" {
			t.Fatalf("cursor of a job never run: %d, %q, %v; want 0", c, h, err)
		}
		if ok, err := d.ClaimJob(ctx, claim("read", "a", time.Now())); err != nil || !ok {
			t.Fatal(ok, err)
		}
		for _, to := range []int64{7, 5} {
			if err := d.AdvanceJobCursor(ctx, "read", to); err != nil {
				t.Fatal(err)
			}
		}
		if c, h, err := d.JobCursor(ctx, "read"); err != nil || c != 7 || h != "a" {
			t.Errorf("cursor after 7 then 5: %d, held by %q, %v; want 7, a", c, h, err)
		}
	})
}
