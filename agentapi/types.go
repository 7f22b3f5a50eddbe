// Package agentapi is the wire between `portpanel agent` and the control
// plane: the JSON documents both sides exchange and the request signature
// that authenticates an agent. It imports nothing of portpanel, so the
// agent and the control plane agree on one definition and neither imports
// the other.
//
// The agent API is served only on the agent listener (serve
// --agent-listen), under /agent/v1/. Every request but Enroll is signed
// with the host's Ed25519 key (sign.go).
package agentapi

import "time"

// Paths of the agent API.
const (
	PathEnroll   = "/agent/v1/enroll"  // POST EnrollRequest → EnrollResponse (unsigned; the token authenticates)
	PathDesired  = "/agent/v1/desired" // GET ?after=GEN&wait=SECONDS → Desired (long poll)
	PathReport   = "/agent/v1/report"  // POST Report → 204
	PathPreview  = "/agent/v1/preview" // POST PreviewResult → 204
	PathRotate   = "/agent/v1/rotate"  // POST RotateRequest → 204
	MaxBodyBytes = 256 << 10           // any agent request body larger is refused (413)
	MaxWait      = 30 * time.Second    // a long poll is held at most this long
)

// Keys an agent will set: the typed operation names no other key, no
// path and no command.
const (
	KeyRange    = "net.ipv4.ip_local_port_range"
	KeyReserved = "net.ipv4.ip_local_reserved_ports"
)

// EnrollRequest is an agent's first request: a one-time enrollment token,
// the name it asks for (default: its hostname) and the public half of the
// key pair it made on the host.
type EnrollRequest struct {
	Token     string `json:"token"`
	Name      string `json:"name"`
	PublicKey string `json:"public_key"` // base64 (std) of the 32-byte Ed25519 public key
	Version   string `json:"version"`
}

// EnrollResponse confirms an enrollment.
type EnrollResponse struct {
	Name        string `json:"name"`
	Group       string `json:"group"`
	PollSeconds int    `json:"poll_seconds"`
}

// RotateRequest replaces the host's key. It is signed with the current
// key, and NewSignature proves the agent holds the new one (see
// RotationProof). The old key keeps working for a grace period, so
// requests in flight during a rotation are not refused.
type RotateRequest struct {
	PublicKey    string `json:"public_key"`
	NewSignature string `json:"new_signature"`
}

// Operation is the one thing the control plane may ask of an agent.
type Operation string

const (
	// OpSet sets Keys to their values through the agent's apply pipeline.
	OpSet Operation = "set"
	// OpRollback rolls back the change the agent applied for generation
	// RollbackOf, byte for byte (the file as it was).
	OpRollback Operation = "rollback"
)

// Desired is the control plane's answer to a long poll: the host's desired
// state at Generation. Generations only grow; an agent applies the
// current one only, never a backlog of older ones.
type Desired struct {
	Generation int64 `json:"generation"`
	// Change is nil when nothing is to be applied at this generation.
	Change *DesiredChange `json:"change,omitempty"`
	// Confirm lists generations whose commit-confirmed change the control
	// plane confirms: the agent stops their revert timers.
	Confirm []int64 `json:"confirm,omitempty"`
	// Previews are previews the control plane waits for (PathPreview).
	Previews    []PreviewRequest `json:"previews,omitempty"`
	PollSeconds int              `json:"poll_seconds"`
}

// DesiredChange is a change the control plane sends. Keys holds only
// KeyRange and KeyReserved; the agent validates the values again against
// its own kernel and refuses what it would refuse locally.
type DesiredChange struct {
	Operation  Operation         `json:"operation"`
	Keys       map[string]string `json:"keys,omitempty"`
	RollbackOf int64             `json:"rollback_of,omitempty"`
	ChangeID   int64             `json:"change_id"` // the control plane's change, for the agent's journal
	Reason     string            `json:"reason"`
	Author     string            `json:"author"`
	// ConfirmWithin, if not zero, is the commit-confirmed window in
	// seconds: the agent reverts on its own unless Confirm names this
	// generation in time, across its own restarts too.
	ConfirmWithin int      `json:"confirm_within,omitempty"`
	Acknowledge   []string `json:"acknowledge,omitempty"`
}

// PreviewRequest asks the agent what a change would do on its host.
type PreviewRequest struct {
	ID   string            `json:"id"`
	Keys map[string]string `json:"keys"`
}

// PreviewResult is the agent's answer to a PreviewRequest: the diff of its
// file as it would write it, its hazards and warnings, or why it refuses.
type PreviewResult struct {
	ID       string   `json:"id"`
	File     string   `json:"file"`
	Diff     string   `json:"diff"`
	Hazards  []Hazard `json:"hazards,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Uneditable is why the file cannot be edited ("" when it can).
	Uneditable string `json:"uneditable,omitempty"`
}

// Hazard is a risk a change carries on the host (change.HazardCodes).
type Hazard struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result states of a generation on the agent.
const (
	ResultApplied     = "applied"     // applied, no confirm window
	ResultUnconfirmed = "unconfirmed" // applied, revert timer running
	ResultConfirmed   = "confirmed"   // confirmed within its window
	ResultReverted    = "reverted"    // reverted on its own (deadline) or refused at recovery
	ResultFailed      = "failed"      // refused (validation, hazards, observe-only) or failed to apply
)

// Result is what became of one generation on the agent.
type Result struct {
	Generation int64     `json:"generation"`
	State      string    `json:"state"`
	Error      string    `json:"error,omitempty"`
	Deadline   time.Time `json:"deadline,omitzero"` // when unconfirmed
	At         time.Time `json:"at"`
}

// Report is what the agent observes and what became of the latest
// generation it saw. The host is named by the signature, never by the
// body.
type Report struct {
	At          time.Time `json:"at"`
	Version     string    `json:"version"`
	PollSeconds int       `json:"poll_seconds"`
	ObserveOnly bool      `json:"observe_only"`
	// Results are the outcomes of the generations the agent acted on
	// since its last accepted report (usually one).
	Results  []Result `json:"results,omitempty"`
	Observed Observed `json:"observed"`
}

// Observed is the host's state as the agent reads it: what the dashboard
// shows for the local host.
type Observed struct {
	Runtime               Range      `json:"runtime"`
	Boot                  Boot       `json:"boot"`
	ReservedPorts         string     `json:"reserved_ports"`
	BootReservedPorts     string     `json:"boot_reserved_ports"`
	UnprivilegedPortStart int        `json:"unprivileged_port_start"`
	Drift                 bool       `json:"drift"`
	Warnings              []string   `json:"warnings,omitempty"`
	Usage                 *Usage     `json:"usage,omitempty"`
	Listeners             []Listener `json:"listeners,omitempty"`
	File                  string     `json:"file"`
}

// Range is an inclusive port range.
type Range struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

// Boot is the value the host boots with and where it comes from.
type Boot struct {
	Range     Range    `json:"range"`
	Set       bool     `json:"set"` // false: no file sets it; the kernel default stays
	File      string   `json:"file,omitempty"`
	Line      int      `json:"line,omitempty"`
	Reader    string   `json:"reader"`
	Refused   []string `json:"refused,omitempty"`
	Uncertain []string `json:"uncertain,omitempty"`
}

// Usage is a summary of the sockets using the range.
type Usage struct {
	At       time.Time      `json:"at"`
	Total    int            `json:"total"`
	ByState  map[string]int `json:"by_state"`
	Busiest  *Destination   `json:"busiest,omitempty"`
	Risk     string         `json:"risk"` // ok, warning, critical
	RiskNote string         `json:"risk_note,omitempty"`
}

// Destination is the remote address:port with the most connections from
// the range.
type Destination struct {
	Address string `json:"address"`
	Count   int    `json:"count"`
}

// Listener is a socket listening on a port inside the range.
type Listener struct {
	Port    int    `json:"port"`
	Proto   string `json:"proto"`
	Process string `json:"process,omitempty"`
}
