package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// Two processes' webhook workers claiming at the same moment never both
// get one delivery: on PostgreSQL each reads the due rows beside the
// other, so a claim must recheck the row it takes.
func TestConcurrentClaimsTakeEachDeliveryOnce(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := dbtest.OpenDSN(t, dsn), dbtest.OpenDSN(t, dsn)
		queued(t, a)
		for range 199 { // 200 deliveries in all
			c := change(20000, 60999)
			c.Status = db.StatusApplied
			if _, _, err := a.RecordChange(ctx, c, db.AuditEvent{Action: "change.applied"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().Add(time.Second)
		claimed := map[int64]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range 16 {
			d := []*db.DB{a, b}[w%2]
			wg.Go(func() {
				for range 8 {
					got, err := d.ClaimDeliveries(ctx, now, time.Hour, 25)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, x := range got {
						claimed[x.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for id, n := range claimed {
			if n > 1 {
				t.Errorf("delivery %d claimed %d times within one lease", id, n)
			}
		}
		if len(claimed) != 200 {
			t.Errorf("%d deliveries claimed, want all 200", len(claimed))
		}
	})
}
