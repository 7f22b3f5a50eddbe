package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"portpanel/db"
)

// Event types an endpoint may subscribe to.
const (
	ChangeProposed   = "change.proposed"    // a change awaits approval
	ChangeApproved   = "change.approved"    // and is applied next
	ChangeRejected   = "change.rejected"    //
	ChangeApplied    = "change.applied"     // kernel and file have the new range
	ChangeFailed     = "change.failed"      // refused, unwritable, interrupted
	ChangeRolledBack = "change.rolled_back" // by someone, undoing an earlier change
	ChangeReverted   = "change.reverted"    // by portpanel: not confirmed by its deadline
	DriftFound       = "range.drift"        // the running range differs from the boot value
	RiskWarning      = "risk.warning"       // the busiest destination crossed --risk-warning
	RiskCritical     = "risk.critical"      // ... or --risk-critical
	// Test is sent by the page's "send test" button, to one endpoint.
	Test = "webhook.test"
)

// Events lists the types an endpoint may subscribe to, in the order the
// page shows them.
var Events = []string{ChangeProposed, ChangeApproved, ChangeRejected, ChangeApplied, ChangeFailed,
	ChangeRolledBack, ChangeReverted, DriftFound, RiskWarning, RiskCritical}

// Describe says in words what an event type announces.
var Describe = map[string]string{
	ChangeProposed:   "a change awaits approval",
	ChangeApproved:   "a proposal was approved",
	ChangeRejected:   "a proposal was rejected",
	ChangeApplied:    "a change was applied",
	ChangeFailed:     "a change failed (refused, file not writable, interrupted)",
	ChangeRolledBack: "a change was rolled back",
	ChangeReverted:   "a commit-confirmed change was reverted at its deadline",
	DriftFound:       "the running range differs from the boot value",
	RiskWarning:      "exhaustion risk crossed the warning threshold",
	RiskCritical:     "exhaustion risk crossed the critical threshold",
}

// typeOf is the event type an audit event raises, "" for none. Actions
// that end a change's apply raise what the change became: a rollback
// recorded by user 0 (portpanel itself) is the automatic revert at a
// commit-confirmed deadline.
func typeOf(r db.Recorded) (string, *db.Change) {
	c := subject(r)
	switch a := r.Event.Action; a {
	case ChangeProposed, ChangeApproved, ChangeRejected, ChangeFailed, DriftFound, RiskWarning, RiskCritical:
		return a, c
	case ChangeReverted: // a remote host's agent reverted it on its own (change.followResult)
		if c == nil {
			return "", nil
		}
		return a, c
	case "change.interrupted":
		return ChangeFailed, c
	case ChangeApplied, ChangeRolledBack, "change.recovered":
		switch {
		case c == nil:
			return "", nil
		case c.RollbackOf != nil && c.UserID == 0:
			return ChangeReverted, c
		case c.RollbackOf != nil:
			return ChangeRolledBack, c
		}
		return ChangeApplied, c
	}
	return "", nil
}

// subject is the change r's event is about, as the transaction stored it.
func subject(r db.Recorded) *db.Change {
	if r.Event.ChangeID == nil {
		return nil
	}
	for i := range r.Changes {
		if r.Changes[i].ID == *r.Event.ChangeID {
			return &r.Changes[i]
		}
	}
	return nil
}

// Notifier returns the db.Notifier for a panel on host: which webhook
// event an audit event raises, with its bodies.
func Notifier(host string) db.Notifier {
	return func(r db.Recorded) []db.Notice {
		typ, c := typeOf(r)
		if typ == "" {
			return nil
		}
		n, err := notice(host, typ, r.Event, c, r.Facts)
		if err != nil {
			// Only a value json cannot encode gets here, which the
			// types above never hold: raise nothing rather than fail
			// the change.
			return nil
		}
		return []db.Notice{n}
	}
}

// TestNotice is the event the "send test" button sends.
func TestNotice(host string, e db.AuditEvent) (db.Notice, error) {
	return notice(host, Test, e, nil, nil)
}

// body is the Standard Webhooks payload: type, timestamp, data.
type body struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      data   `json:"data"`
}

type data struct {
	Host    string         `json:"host"`
	EventID int64          `json:"event_id"` // the audit event's id
	Actor   string         `json:"actor"`    // "" when portpanel itself
	Summary string         `json:"summary"`
	Change  *changeData    `json:"change,omitempty"`
	Facts   map[string]any `json:"facts,omitempty"`
}

type rangeData struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

type changeData struct {
	ID             int64      `json:"id"`
	Status         string     `json:"status"`
	Before         rangeData  `json:"before"`
	After          rangeData  `json:"after"`
	Reason         string     `json:"reason"`
	User           string     `json:"user"`
	RollbackOf     *int64     `json:"rollback_of"`
	Error          string     `json:"error,omitempty"`
	ConfirmBy      *time.Time `json:"confirm_by,omitempty"`
	DecidedBy      string     `json:"decided_by,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
	Emergency      bool       `json:"emergency,omitempty"`
}

func notice(host, typ string, e db.AuditEvent, c *db.Change, facts map[string]any) (db.Notice, error) {
	b := body{Type: typ, Timestamp: e.At.UTC().Format(time.RFC3339Nano),
		Data: data{Host: host, EventID: e.ID, Actor: e.User, Summary: summary(typ, e, c), Facts: facts}}
	if c != nil {
		b.Data.Change = &changeData{ID: c.ID, Status: c.Status, Before: rangeData{c.BeforeLow, c.BeforeHigh},
			After: rangeData{c.Low, c.High}, Reason: c.Reason, User: c.User, RollbackOf: c.RollbackOf, Error: c.Error,
			ConfirmBy: c.ConfirmBy, DecidedBy: c.DecidedBy, DecisionReason: c.DecisionReason, Emergency: c.Emergency}
	}
	std, err := json.Marshal(b)
	if err != nil {
		return db.Notice{}, fmt.Errorf("encode %s webhook: %w", typ, err)
	}
	chat, err := json.Marshal(map[string]string{"text": "portpanel on " + host + ": " + b.Data.Summary})
	if err != nil {
		return db.Notice{}, fmt.Errorf("encode %s chat webhook: %w", typ, err)
	}
	return db.Notice{Type: typ, Body: std, ChatBody: chat}, nil
}

// summary is one sentence saying what happened, for people (chat bodies,
// the "summary" field).
func summary(typ string, e db.AuditEvent, c *db.Change) string {
	if c == nil {
		if typ == Test {
			return "test event sent by " + e.User + ": this endpoint is set up."
		}
		return e.Detail
	}
	by := c.User
	if e.User != "" {
		by = e.User
	}
	move := fmt.Sprintf("%d–%d → %d–%d", c.BeforeLow, c.BeforeHigh, c.Low, c.High)
	var s string
	switch typ {
	case ChangeProposed:
		s = fmt.Sprintf("change #%d (%s) by %s awaits approval", c.ID, move, by)
	case ChangeApproved:
		s = fmt.Sprintf("change #%d (%s) was approved by %s", c.ID, move, by)
	case ChangeRejected:
		s = fmt.Sprintf("change #%d (%s) was rejected by %s: %s", c.ID, move, by, c.DecisionReason)
	case ChangeApplied:
		s = fmt.Sprintf("change #%d applied by %s: %s", c.ID, by, move)
	case ChangeFailed:
		s = fmt.Sprintf("change #%d (%s) by %s failed: %s", c.ID, move, c.User, c.Error)
	case ChangeRolledBack:
		s = fmt.Sprintf("change #%d rolled back change #%d, by %s: %s", c.ID, *c.RollbackOf, by, move)
	case ChangeReverted:
		if c.RollbackOf == nil { // a remote host's agent reverted the change itself
			s = fmt.Sprintf("change #%d was not confirmed in time and host %s reverted it: %s", c.ID, c.Host, move)
			break
		}
		s = fmt.Sprintf("change #%d was not confirmed in time and was reverted by change #%d: %s", *c.RollbackOf, c.ID, move)
	default:
		s = e.Detail
	}
	if c.Reason != "" && typ != ChangeReverted {
		s += ". Reason: " + c.Reason
	}
	return strings.TrimSpace(s)
}
