package db_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// What a client typed as a name is never stored: a key is its SHA-256,
// whatever bytes it holds (PostgreSQL's text refuses NUL and bad UTF-8).
// A count updated to zero is not kept; one idle past its hour is pruned.
func TestThrottleCounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		keys := []string{"u\x00192.0.2.1\x00my secret password\xff", "a\x00192.0.2.1"}
		bump := func(cs []db.ThrottleCount) {
			for i := range cs {
				cs[i].Fails++
				cs[i].Until, cs[i].Seen = now.Add(time.Second), now
			}
		}
		for range 2 {
			if err := d.UpdateThrottle(ctx, keys, bump); err != nil {
				t.Fatal(err)
			}
		}
		var got []db.ThrottleCount
		if err := d.UpdateThrottle(ctx, keys, func(cs []db.ThrottleCount) { got = append(got, cs...); cs[0] = db.ThrottleCount{} }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Fails != 2 || !got[0].Until.Equal(now.Add(time.Second)) || !got[1].Seen.Equal(now) {
			t.Errorf("counts read back %+v, want 2 failures each, until %v, seen %v", got, now.Add(time.Second), now)
		}
		var stored string
		if err := d.SQL().QueryRow(`SELECT MIN(key) FROM login_throttle`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, "secret") || len(stored) != 64 {
			t.Errorf("stored key %q, want a SHA-256 in hex", stored)
		}
		if n, err := d.CountThrottle(ctx); err != nil || n != 1 {
			t.Errorf("%d counts stored after one was cleared, %v; want 1", n, err)
		}
		if n, err := d.PruneThrottle(ctx, now, now.Add(time.Second), 100); err != nil || n != 0 {
			t.Errorf("pruned %d counts seen at the bound, %v; want none", n, err)
		}
		if n, err := d.PruneThrottle(ctx, now.Add(time.Millisecond), now, 100); err != nil || n != 0 {
			t.Errorf("pruned %d counts whose wait runs on, %v; want none", n, err)
		}
		if n, err := d.PruneThrottle(ctx, now.Add(time.Millisecond), now.Add(time.Second), 100); err != nil || n != 1 {
			t.Errorf("pruned %d idle counts, %v; want 1", n, err)
		}
	})
}

// Beyond the bound, the least recently seen counts go first.
func TestThrottleCountsAreBounded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Millisecond)
		for i := range 5 {
			if err := d.UpdateThrottle(ctx, []string{strconv.Itoa(i)}, func(cs []db.ThrottleCount) {
				cs[0] = db.ThrottleCount{Fails: 1, Until: t0.Add(time.Hour), Seen: t0.Add(time.Duration(i) * time.Second)}
			}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := d.PruneThrottle(ctx, t0.Add(-time.Hour), t0, 3); err != nil || n != 2 {
			t.Fatalf("pruned %d counts beyond 3 of 5, %v; want 2", n, err)
		}
		var oldest int64
		if err := d.SQL().QueryRow(`SELECT MIN(seen_at) FROM login_throttle`).Scan(&oldest); err != nil || oldest != t0.Add(2*time.Second).UnixMilli() {
			t.Errorf("the oldest count kept was seen at %d, %v; want the third (%d)", oldest, err, t0.Add(2*time.Second).UnixMilli())
		}
	})
}
