package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"portpanel/db"
)

func TestNotifierMapsAuditActionsToEventTypes(t *testing.T) {
	id := int64(7)
	orig := int64(3)
	byUser := db.Change{ID: id, UserID: 2, User: "alice", Status: db.StatusApplied, Low: 20000, High: 40000, BeforeLow: 32768, BeforeHigh: 60999, Reason: "why"}
	rollback := byUser
	rollback.RollbackOf = &orig
	revert := rollback
	revert.UserID, revert.User = 0, "portpanel"
	remoteRevert := byUser
	remoteRevert.Host, remoteRevert.Status = "web-1", db.StatusReverted
	for _, tc := range []struct {
		action string
		change *db.Change
		want   string
	}{
		{"change.proposed", &byUser, ChangeProposed},
		{"change.approved", &byUser, ChangeApproved},
		{"change.rejected", &byUser, ChangeRejected},
		{"change.applied", &byUser, ChangeApplied},
		{"change.failed", &byUser, ChangeFailed},
		{"change.interrupted", &byUser, ChangeFailed},
		{"change.rolled_back", &rollback, ChangeRolledBack},
		{"change.rolled_back", &revert, ChangeReverted},
		{"change.recovered", &byUser, ChangeApplied},
		{"change.recovered", &revert, ChangeReverted},
		{"change.reverted", &remoteRevert, ChangeReverted},
		{"range.drift", nil, DriftFound},
		{"risk.warning", nil, RiskWarning},
		{"risk.critical", nil, RiskCritical},
		{"change.applying", &byUser, ""},
		{"change.confirmed", &byUser, ""},
		{"login", nil, ""},
		{"token.created", nil, ""},
	} {
		t.Run(tc.action+"/"+tc.want, func(t *testing.T) {
			r := db.Recorded{Event: db.AuditEvent{ID: 42, At: time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC), User: "alice", Action: tc.action}}
			if tc.change != nil {
				r.Event.ChangeID = &id
				r.Changes = []db.Change{{ID: orig, Status: db.StatusReverted}, *tc.change}
			}
			got := Notifier("h")(r)
			if tc.want == "" {
				if len(got) != 0 {
					t.Errorf("%s raised %v, want nothing", tc.action, got)
				}
				return
			}
			if len(got) != 1 || got[0].Type != tc.want {
				t.Fatalf("%s raised %v, want one %s", tc.action, got, tc.want)
			}
			var b struct {
				Type string
				Data struct {
					EventID int64 `json:"event_id"`
					Change  *struct{ ID int64 }
				}
			}
			if err := json.Unmarshal(got[0].Body, &b); err != nil || b.Type != tc.want || b.Data.EventID != 42 ||
				(tc.change != nil && (b.Data.Change == nil || b.Data.Change.ID != id)) {
				t.Errorf("body %s (%v): want type %s, event 42 and change %d", got[0].Body, err, tc.want, id)
			}
			var chat struct{ Text string }
			if err := json.Unmarshal(got[0].ChatBody, &chat); err != nil || !strings.HasPrefix(chat.Text, "portpanel on h: ") {
				t.Errorf("chat body %s (%v): want a text naming the host", got[0].ChatBody, err)
			}
		})
	}
}
