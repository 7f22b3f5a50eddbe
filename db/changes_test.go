package db_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func change(low, high int) db.Change {
	return db.Change{Status: db.StatusApplied, Low: low, High: high, BeforeLow: 32768, BeforeHigh: 60999,
		Reason: "more ports", UserID: 1, User: "alice", File: "/etc/sysctl.d/60-portpanel.conf"}
}

func TestRecordChangeRoundTrip(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		at := time.Date(2026, 5, 1, 12, 0, 0, 123_456_789, time.FixedZone("CEST", 2*3600))
		tests := []struct {
			name   string
			change db.Change
		}{
			{name: "every field set", change: db.Change{
				Status: db.StatusApplied, Low: 20000, High: 60999, BeforeLow: 32768, BeforeHigh: 60999,
				Reason: "more ports", UserID: 7, User: "alice", CreatedAt: at,
				File: "/etc/sysctl.d/60-portpanel.conf", Diff: "-a\n+b\n", Warnings: []string{"w1", "w2"},
				FileExisted: true, FileBefore: []byte("net.ipv4.ip_local_port_range = 32768 60999\n"),
				FileAfterHash: "abc123",
			}},
			{name: "failed, file absent", change: db.Change{
				Status: db.StatusFailed, Low: 1, High: 2, Error: "EINVAL", User: "bob",
			}},
			{name: "file existed but was empty", change: db.Change{
				Status: db.StatusApplied, Low: 1, High: 2, FileExisted: true, FileBefore: []byte{},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				stored, ev, err := d.RecordChange(ctx, tt.change, db.AuditEvent{Action: "change." + tt.change.Status}, nil)
				if err != nil {
					t.Fatalf("RecordChange: %v", err)
				}
				if stored.ID == 0 || ev.ChangeID == nil || *ev.ChangeID != stored.ID {
					t.Fatalf("stored change %d, audit change id %v: want them linked", stored.ID, ev.ChangeID)
				}
				if tt.change.CreatedAt.IsZero() {
					if time.Since(stored.CreatedAt) > time.Minute {
						t.Errorf("CreatedAt = %v, want now", stored.CreatedAt)
					}
				} else if !stored.CreatedAt.Equal(tt.change.CreatedAt.Truncate(time.Millisecond)) {
					t.Errorf("CreatedAt = %v, want %v to the millisecond", stored.CreatedAt, tt.change.CreatedAt)
				}
				got, err := d.Change(ctx, stored.ID)
				if err != nil {
					t.Fatalf("Change(%d): %v", stored.ID, err)
				}
				if !reflect.DeepEqual(got, stored) {
					t.Errorf("read back\n%+v\nwant what RecordChange returned\n%+v", got, stored)
				}
				if got.FileExisted != (got.FileBefore != nil) {
					t.Errorf("FileExisted %v but FileBefore nil = %v", got.FileExisted, got.FileBefore == nil)
				}
			})
		}
	})
}

func TestChangeNotFound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := d.Change(context.Background(), 1); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Change(1) error = %v, want ErrNotFound", err)
		}
	})
}

// TestRecordChangeIsAtomic makes each later step of RecordChange fail for
// real (database constraints, not mocks) and checks nothing was kept.
func TestRecordChangeIsAtomic(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		ctx := context.Background()
		bogus := int64(999)
		tests := []struct {
			name   string
			change db.Change
			event  db.AuditEvent
			sample *db.Sample
		}{
			{name: "sample violating the source CHECK undoes change and audit",
				change: change(20000, 60999), event: db.AuditEvent{Action: "change.applied"},
				sample: &db.Sample{Low: 20000, High: 60999, Source: "bogus"}},
			{name: "audit event violating its CHECK undoes the change",
				change: change(20000, 60999), event: db.AuditEvent{Action: ""}},
			{name: "rollback of a missing change is a foreign key violation",
				change: func() db.Change { c := change(1, 2); c.RollbackOf = &bogus; return c }(),
				event:  db.AuditEvent{Action: "change.applied"}},
			{name: "unknown status is refused",
				change: func() db.Change { c := change(1, 2); c.Status = "maybe"; return c }(),
				event:  db.AuditEvent{Action: "change.applied"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := open(t)
				if _, _, err := d.RecordChange(ctx, tt.change, tt.event, tt.sample); err == nil {
					t.Fatal("RecordChange succeeded, want error")
				}
				for _, table := range []string{"changes", "audit_events", "samples"} {
					if n := countRows(t, d, table); n != 0 {
						t.Errorf("%s has %d rows after the failed RecordChange, want 0", table, n)
					}
				}
				// The transaction must not have left the database locked.
				if _, _, err := d.RecordChange(ctx, change(1, 2), db.AuditEvent{Action: "ok"}, nil); err != nil {
					t.Errorf("RecordChange after the failure: %v", err)
				}
			})
		}
	})
}

func TestRecordChangeWithSample(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c, _, err := d.RecordChange(ctx, change(20000, 60999), db.AuditEvent{Action: "change.applied"},
			&db.Sample{Low: 20000, High: 60999, Source: db.SourceChange})
		if err != nil {
			t.Fatalf("RecordChange: %v", err)
		}
		s, err := d.LatestSample(ctx)
		if err != nil || s.Low != c.Low || s.High != c.High || s.Source != db.SourceChange {
			t.Errorf("LatestSample = %+v, %v; want the change's range from source change", s, err)
		}
		if n, err := d.VerifyAudit(ctx); err != nil || n != 1 {
			t.Errorf("VerifyAudit = %d, %v; want 1, nil", n, err)
		}
	})
}

func TestRollbacksOf(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ev := db.AuditEvent{Action: "change.applied"}
		first, _, err := d.RecordChange(ctx, change(20000, 60999), ev, nil)
		if err != nil {
			t.Fatalf("first change: %v", err)
		}
		rb := change(32768, 60999)
		rb.RollbackOf = &first.ID
		var want []int64
		for range 2 {
			c, _, err := d.RecordChange(ctx, rb, ev, nil)
			if err != nil {
				t.Fatalf("rollback change: %v", err)
			}
			want = append(want, c.ID)
		}
		tests := []struct {
			name string
			id   int64
			want []int64
		}{
			{name: "rolled back twice", id: first.ID, want: want},
			{name: "a rollback itself not rolled back", id: want[0], want: nil},
			{name: "missing change", id: 999, want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cs, err := d.RollbacksOf(ctx, tt.id)
				if err != nil {
					t.Fatalf("RollbacksOf: %v", err)
				}
				if got := ids(cs, func(c db.Change) int64 { return c.ID }); !equal(got, tt.want) {
					t.Errorf("RollbacksOf(%d) = %v, want %v", tt.id, got, tt.want)
				}
				// The one-query form, for a listed page, agrees.
				cs, err = d.RollbacksOfAny(ctx, []int64{tt.id, 12345})
				if err != nil {
					t.Fatalf("RollbacksOfAny: %v", err)
				}
				if got := ids(cs, func(c db.Change) int64 { return c.ID }); !equal(got, tt.want) {
					t.Errorf("RollbacksOfAny(%d, 12345) = %v, want %v", tt.id, got, tt.want)
				}
			})
		}
		if cs, err := d.RollbacksOfAny(ctx, nil); err != nil || len(cs) != 0 {
			t.Errorf("RollbacksOfAny(none) = %v, %v; want nothing", cs, err)
		}
	})
}

func countRows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.SQL().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func ids[T any](rows []T, id func(T) int64) []int64 {
	var out []int64
	for _, r := range rows {
		out = append(out, id(r))
	}
	return out
}
