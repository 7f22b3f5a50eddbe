package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestRemoteChangeQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		record := func(host, status string, gen int64, confirmBy *time.Time) db.Change {
			t.Helper()
			c, _, err := d.RecordChange(ctx, db.Change{Host: host, Status: status, Generation: gen, BaseGeneration: 7,
				Low: 20000, High: 60999, Reason: "r", User: "u", CreatedAt: at, File: "/f", ConfirmBy: confirmBy},
				db.AuditEvent{At: at, User: "u", Action: "change.applying", Detail: "d"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		local := record("", db.StatusApplying, 0, nil)
		sent := record("web-1", db.StatusApplied, 8, &at)
		unsent := record("web-1", db.StatusApplying, 0, nil)
		record("web-2", db.StatusApplying, 8, nil)

		got, err := d.RemoteChangeSent(ctx, "web-1", 8)
		if err != nil || got.ID != sent.ID || got.Host != "web-1" || got.BaseGeneration != 7 || got.Generation != 8 {
			t.Errorf("RemoteChangeSent(web-1, 8) = #%d %q base %d gen %d, %v; want #%d", got.ID, got.Host, got.BaseGeneration, got.Generation, err, sent.ID)
		}
		// A generation no row records yet: the change sent before its
		// generation was stored.
		if got, err := d.RemoteChangeSent(ctx, "web-1", 9); err != nil || got.ID != unsent.ID {
			t.Errorf("RemoteChangeSent(web-1, 9) = #%d, %v; want the unsent #%d", got.ID, err, unsent.ID)
		}
		if _, err := d.RemoteChangeSent(ctx, "web-3", 8); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("RemoteChangeSent(web-3) err = %v, want not found", err)
		}
		flight, err := d.HostChangesInFlight(ctx, "web-1")
		if err != nil || len(flight) != 2 || flight[0].ID != sent.ID || flight[1].ID != unsent.ID {
			t.Errorf("HostChangesInFlight(web-1) = %v, %v; want #%d and #%d", changeIDs(flight), err, sent.ID, unsent.ID)
		}
		list, err := d.HostChanges(ctx, "", 10, 0)
		if err != nil || len(list) != 1 || list[0].ID != local.ID {
			t.Errorf("HostChanges(local) = %v, %v; want #%d", changeIDs(list), err, local.ID)
		}
		if list, err := d.HostChanges(ctx, "web-1", 1, unsent.ID); err != nil || len(list) != 1 || list[0].ID != sent.ID {
			t.Errorf("HostChanges(web-1, before #%d) = %v, %v; want #%d", unsent.ID, changeIDs(list), err, sent.ID)
		}
		if who, err := d.ConfirmRequester(ctx, sent.ID); who != "" || err != nil {
			t.Errorf("ConfirmRequester before any = %q, %v", who, err)
		}
		id := sent.ID
		if _, err := d.AppendAudit(ctx, db.AuditEvent{At: at, User: "anna", Action: "change.confirm_requested", Detail: "d", ChangeID: &id}); err != nil {
			t.Fatal(err)
		}
		if who, err := d.ConfirmRequester(ctx, sent.ID); who != "anna" || err != nil {
			t.Errorf("ConfirmRequester = %q, %v; want anna", who, err)
		}
	})
}

func changeIDs(list []db.Change) []int64 { return ids(list, func(c db.Change) int64 { return c.ID }) }
