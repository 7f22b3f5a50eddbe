package db_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// notifier raises "<action>" for every audit event whose action starts
// with "change.", with bodies that name the event and the changes seen.
func notifier(seen *[]db.Recorded) db.Notifier {
	return func(r db.Recorded) []db.Notice {
		*seen = append(*seen, r)
		if !strings.HasPrefix(r.Event.Action, "change.") {
			return nil
		}
		return []db.Notice{{Type: r.Event.Action, Body: []byte(`{"std":"` + r.Event.Action + `"}`), ChatBody: []byte(`{"text":"` + r.Event.Action + `"}`)}}
	}
}

func addEndpoint(t *testing.T, d *db.DB, url, format string, enabled bool, events ...string) db.Endpoint {
	t.Helper()
	e, err := d.AddEndpoint(context.Background(), db.Endpoint{URL: url, Secret: "whsec_dGVzdA==", Events: events, Format: format,
		Enabled: enabled, CreatedBy: "alice"}, func(e db.Endpoint) db.AuditEvent {
		return db.AuditEvent{User: "alice", Action: "webhook.created", Detail: "endpoint"}
	})
	if err != nil {
		t.Fatalf("add endpoint %s: %v", url, err)
	}
	return e
}

// outbox dumps the delivery rows: endpoint, type, audit id, body.
func outbox(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.SQL().Query(`SELECT endpoint_id, event_type, audit_id, body, status FROM webhook_deliveries ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ep, audit int64
		var typ, body, status string
		if err := rows.Scan(&ep, &typ, &audit, &body, &status); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{itoa(ep), typ, itoa(audit), body, status}, " "))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.SQL().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOutboxQueuesOneDeliveryPerSubscribedEndpoint(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var seen []db.Recorded
		d.SetNotifier(notifier(&seen))
		std := addEndpoint(t, d, "https://a.example/hook", db.FormatStandard, true, "change.applied", "change.failed")
		chat := addEndpoint(t, d, "https://b.example/hook", db.FormatChat, true, "change.applied")
		addEndpoint(t, d, "https://c.example/hook", db.FormatStandard, true, "change.proposed") // not subscribed
		addEndpoint(t, d, "https://d.example/hook", db.FormatStandard, false, "change.applied") // disabled

		c := change(20000, 60999)
		c.Status = db.StatusApplied
		stored, ev, err := d.RecordChange(ctx, c, db.AuditEvent{User: "alice", Action: "change.applied"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			itoa(std.ID) + " change.applied " + itoa(ev.ID) + ` {"std":"change.applied"} pending`,
			itoa(chat.ID) + " change.applied " + itoa(ev.ID) + ` {"text":"change.applied"} pending`,
		}
		if got := outbox(t, d); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("outbox after the change:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		last := seen[len(seen)-1]
		if last.Event.ID != ev.ID || len(last.Changes) != 1 || last.Changes[0].ID != stored.ID {
			t.Errorf("the notifier saw event %d with changes %v, want event %d with change %d", last.Event.ID, last.Changes, ev.ID, stored.ID)
		}

		// A transition hands the notifier the changes as stored.
		next := stored
		next.Status = db.StatusFailed
		if _, err := d.Transition(ctx, []db.Transition{{From: db.StatusApplied, Change: next}},
			[]db.AuditEvent{{Action: "change.failed"}}, nil); err != nil {
			t.Fatal(err)
		}
		last = seen[len(seen)-1]
		if len(last.Changes) != 1 || last.Changes[0].Status != db.StatusFailed {
			t.Errorf("the notifier saw changes %+v, want change %d as failed", last.Changes, stored.ID)
		}
		if got := len(outbox(t, d)); got != 3 {
			t.Errorf("after change.failed the outbox has %d rows, want 3 (only the endpoint subscribed to it gets one)", got)
		}

		// Events that raise nothing queue nothing.
		if _, err := d.AppendAudit(ctx, db.AuditEvent{Action: "login"}); err != nil {
			t.Fatal(err)
		}
		if got := len(outbox(t, d)); got != 3 {
			t.Errorf("after a login the outbox has %d rows, want 3", got)
		}
	})
}

// TestOutboxIsAtomicWithItsEvent injects a fault at each write of the
// transaction that records an event: whichever fails, neither the change,
// nor its audit event, nor its deliveries are stored.
func TestOutboxIsAtomicWithItsEvent(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		for _, tc := range []struct {
			name   string
			fault  func(t testing.TB, d *db.DB)
			sample *db.Sample
		}{
			{name: "the audit insert fails", fault: dbtest.FailAudit},
			{name: "the delivery insert fails", fault: dbtest.FailDeliveries},
			{name: "a write after the deliveries fails", fault: func(testing.TB, *db.DB) {},
				sample: &db.Sample{Low: 1, High: 2, Source: "no such source"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				d := open(t)
				var seen []db.Recorded
				d.SetNotifier(notifier(&seen))
				addEndpoint(t, d, "https://a.example/hook", db.FormatStandard, true, "change.applied")
				events := count(t, d, "audit_events")
				tc.fault(t, d)

				c := change(20000, 60999)
				c.Status = db.StatusApplied
				if _, _, err := d.RecordChange(ctx, c, db.AuditEvent{Action: "change.applied"}, tc.sample); err == nil {
					t.Fatal("RecordChange succeeded despite the fault")
				}
				if n := count(t, d, "changes"); n != 0 {
					t.Errorf("%d changes stored, want none", n)
				}
				if n := count(t, d, "audit_events"); n != events {
					t.Errorf("%d audit events stored, want %d (none added)", n, events)
				}
				if got := outbox(t, d); len(got) != 0 {
					t.Errorf("deliveries stored without their event: %v", got)
				}
			})
		}
	})
}

func TestOutboxWithoutNotifierQueuesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		addEndpoint(t, d, "https://a.example/hook", db.FormatStandard, true, "change.applied")
		c := change(20000, 60999)
		c.Status = db.StatusApplied
		if _, _, err := d.RecordChange(context.Background(), c, db.AuditEvent{Action: "change.applied"}, nil); err != nil {
			t.Fatal(err)
		}
		if got := outbox(t, d); len(got) != 0 {
			t.Errorf("deliveries without a notifier: %v", got)
		}
	})
}
