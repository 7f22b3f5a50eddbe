package db_test

import (
	"context"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// queued records an applied change with one standard endpoint subscribed
// and returns the endpoint.
func queued(t *testing.T, d *db.DB) db.Endpoint {
	t.Helper()
	var seen []db.Recorded
	d.SetNotifier(notifier(&seen))
	ep := addEndpoint(t, d, "https://a.example/hook", db.FormatStandard, true, "change.applied")
	c := change(20000, 60999)
	c.Status = db.StatusApplied
	if _, _, err := d.RecordChange(context.Background(), c, db.AuditEvent{Action: "change.applied"}, nil); err != nil {
		t.Fatal(err)
	}
	return ep
}

func TestClaimHoldsADeliveryUntilItsLeaseEnds(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ep := queued(t, d)
		now := time.Now()
		got, err := d.ClaimDeliveries(ctx, now, time.Minute, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("first claim: %v, %v; want one delivery", got, err)
		}
		x := got[0]
		if x.URL != ep.URL || x.Secret != ep.Secret || x.Type != "change.applied" || len(x.MsgID) < 20 || x.MsgID[:4] != "msg_" {
			t.Errorf("claimed %+v, want the endpoint's URL and secret, type change.applied and a msg_ id", x)
		}
		if again, err := d.ClaimDeliveries(ctx, now.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
			t.Errorf("claim within the lease: %v, %v; want nothing", again, err)
		}
		if after, err := d.ClaimDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 10); err != nil || len(after) != 1 || after[0].MsgID != x.MsgID {
			t.Errorf("claim after the lease: %v, %v; want the same delivery again", after, err)
		}
		if err := d.ReleaseClaims(ctx); err != nil {
			t.Fatal(err)
		}
		if freed, err := d.ClaimDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 10); err != nil || len(freed) != 1 {
			t.Errorf("claim after ReleaseClaims: %v, %v; want the delivery", freed, err)
		}
	})
}

func TestRecordAttempt(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		ctx := context.Background()
		at := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
		retry := at.Add(10 * time.Second)
		for _, tc := range []struct {
			name        string
			attempt     db.Attempt
			status      string
			pending     int
			dead        int
			wantNextTry *time.Time
		}{
			{"a 2xx delivers it", db.Attempt{At: at, Status: 204, Delivered: true}, db.DeliveryDelivered, 0, 0, nil},
			{"a failure with a next try keeps it pending", db.Attempt{At: at, Status: 500, Error: "HTTP 500", NextAt: &retry}, db.DeliveryPending, 1, 0, &retry},
			{"a failure without a next try kills it", db.Attempt{At: at, Error: "connection refused"}, db.DeliveryDead, 0, 1, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				d := open(t)
				ep := queued(t, d)
				claimed, err := d.ClaimDeliveries(ctx, time.Now(), time.Minute, 10)
				if err != nil || len(claimed) != 1 {
					t.Fatalf("claim: %v %v", claimed, err)
				}
				if err := d.RecordAttempt(ctx, claimed[0].ID, tc.attempt); err != nil {
					t.Fatal(err)
				}
				list, err := d.Deliveries(ctx, ep.ID, 10)
				if err != nil || len(list) != 1 {
					t.Fatalf("deliveries: %v %v", list, err)
				}
				x := list[0]
				if x.Status != tc.status || x.Attempts != 1 || x.LastStatus != tc.attempt.Status || x.LastError != tc.attempt.Error {
					t.Errorf("delivery is %s after %d attempts, last %d %q; want %s after 1, last %d %q",
						x.Status, x.Attempts, x.LastStatus, x.LastError, tc.status, tc.attempt.Status, tc.attempt.Error)
				}
				got, err := d.Endpoint(ctx, ep.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.LastStatus != tc.attempt.Status || got.LastError != tc.attempt.Error || got.LastAttemptAt == nil || !got.LastAttemptAt.Equal(at) {
					t.Errorf("endpoint's last attempt is %v %d %q, want %v %d %q", got.LastAttemptAt, got.LastStatus, got.LastError, at, tc.attempt.Status, tc.attempt.Error)
				}
				if got.Pending != tc.pending || got.Dead != tc.dead || (got.NextTry == nil) != (tc.wantNextTry == nil) ||
					(got.NextTry != nil && !got.NextTry.Equal(*tc.wantNextTry)) {
					t.Errorf("endpoint has %d pending, %d dead, next try %v; want %d, %d, %v", got.Pending, got.Dead, got.NextTry, tc.pending, tc.dead, tc.wantNextTry)
				}
				counts, err := d.DeliveryCounts(ctx)
				if err != nil || counts[tc.status] != 1 || len(counts) != 3 {
					t.Errorf("delivery counts %v (%v), want 1 %s among all three statuses", counts, err, tc.status)
				}
			})
		}
	})
}

func TestDeletingAnEndpointDropsItsDeliveries(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ep := queued(t, d)
		if _, err := d.DeleteEndpoint(ctx, ep.ID, func(db.Endpoint) db.AuditEvent { return db.AuditEvent{Action: "webhook.deleted"} }); err != nil {
			t.Fatal(err)
		}
		if got := outbox(t, d); len(got) != 0 {
			t.Errorf("deliveries of a deleted endpoint remain: %v", got)
		}
		if _, err := d.Endpoint(ctx, ep.ID); err == nil {
			t.Error("the deleted endpoint is still found")
		}
	})
}

func TestObserveRaisesOnlyOnAChange(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var seen []db.Recorded
		d.SetNotifier(notifier(&seen))
		addEndpoint(t, d, "https://a.example/hook", db.FormatStandard, true, "change.drift")
		raise := func(prev string) *db.AuditEvent {
			return &db.AuditEvent{Action: "change.drift", Detail: "from " + prev}
		}
		facts := map[string]any{"low": 1}
		for i, step := range []struct {
			value, prev string
			deliveries  int
		}{
			{"drift", "", 1},
			{"drift", "drift", 1}, // the same reading: nothing new
			{"none", "drift", 2},
			{"drift", "none", 3},
		} {
			prev, err := d.Observe(ctx, "drift", step.value, raise, facts)
			if err != nil {
				t.Fatal(err)
			}
			if prev != step.prev {
				t.Errorf("step %d: previous value %q, want %q", i, prev, step.prev)
			}
			if n := len(outbox(t, d)); n != step.deliveries {
				t.Errorf("step %d: %d deliveries, want %d", i, n, step.deliveries)
			}
		}
		if last := seen[len(seen)-1]; last.Facts["low"] != 1 {
			t.Errorf("the notifier saw facts %v, want the ones given", last.Facts)
		}
		if v, err := d.Monitor(ctx, "drift"); err != nil || v != "drift" {
			t.Errorf("Monitor = %q, %v; want drift", v, err)
		}
	})
}
