package auditlog

import (
	"strconv"
	"strings"

	"portpanel/db"
)

// SDID is the SD-ID of the element every message carries. An SD-ID not
// registered with IANA must end in "@" and a private enterprise number;
// portpanel has none, so it uses 32473, the number RFC 5612 reserves for
// documentation and examples, as RFC 5424's own examples do.
const SDID = "portpanel@32473"

// Severities (RFC 5424, 6.2.1).
const (
	severityWarning = 4
	severityNotice  = 5
)

// failed says whether an action records something that did not happen as
// asked: a refused or failed change, a failed sign-in.
func failed(action string) bool {
	for _, s := range []string{".failed", "_failed", ".throttled", ".interrupted"} {
		if strings.HasSuffix(action, s) {
			return true
		}
	}
	return false
}

// message is the syslog message of e. c is the change e is about, or nil.
//
// Structured data: id and hash place the event in portpanel's hash chain
// (portpanel audit verify); event is the action ("change.applied"), also
// the MSGID; actor is the user name ("" for portpanel itself at start and
// stop, "portpanel" for its own reverts and recovery); result is success
// or failure; change_id, before and after (the range as "low high") come
// with events about a change. MSG is the event's detail, as the audit page
// shows it.
func message(e db.AuditEvent, c *db.Change, h header, facility int) Message {
	result, severity := "success", severityNotice
	if failed(e.Action) {
		result, severity = "failure", severityWarning
	}
	params := []Param{
		{"id", strconv.FormatInt(e.ID, 10)},
		{"event", e.Action},
		{"actor", e.User},
		{"result", result},
	}
	if e.ChangeID != nil {
		params = append(params, Param{"change_id", strconv.FormatInt(*e.ChangeID, 10)})
	}
	if c != nil {
		params = append(params,
			Param{"before", strconv.Itoa(c.BeforeLow) + " " + strconv.Itoa(c.BeforeHigh)},
			Param{"after", strconv.Itoa(c.Low) + " " + strconv.Itoa(c.High)})
	}
	params = append(params, Param{"hash", e.Hash})
	return Message{Facility: facility, Severity: severity, Time: e.At, Hostname: h.hostname, AppName: h.appName,
		ProcID: h.procID, MsgID: e.Action, Data: []Element{{ID: SDID, Params: params}}, Msg: e.Detail}
}

// header is what every message of one process says of its sender.
type header struct{ hostname, appName, procID string }
