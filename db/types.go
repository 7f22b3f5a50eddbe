// Package db owns portpanel's SQLite database: schema, migrations and
// queries. It knows nothing of HTTP or the kernel. SQL stays portable where
// it costs nothing, so PostgreSQL can be a later store.
package db

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a row would violate a uniqueness rule, or
// when another request changed it first (see StatusConflictError).
var ErrConflict = errors.New("already exists")

// ErrLastAdmin is returned when a change would leave no enabled admin:
// nobody could then manage users from the panel.
var ErrLastAdmin = errors.New("the last enabled admin cannot be demoted or disabled")

// User is a local account.
type User struct {
	ID   int64
	Name string
	// Role is one of auth's role names, stored as given: auth decides
	// which are valid and what each may do, the schema's CHECK refuses
	// any other.
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	// Disabled users can neither sign in nor use their sessions or tokens.
	Disabled bool
	// MustChangePassword is set when an admin chose the password (a new
	// user, a reset): every page but the account page asks for a new one.
	MustChangePassword bool
	PasswordChangedAt  time.Time
	// SessionEpoch goes up whenever the password changes or the user is
	// disabled; a session started at an older epoch is no longer valid.
	SessionEpoch int64
}

// Token is an API token; only its SHA-256 hash is stored.
type Token struct {
	ID     int64
	UserID int64
	Name   string
	// Role is the most the token may do; it never does more than its
	// owner's current role. "" (tokens from before roles) means the
	// owner's role.
	Role       string
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never
	LastUsedAt *time.Time
}

// OwnedToken is a token with its owner as lists show it: name, current
// role, and whether the owner is disabled (which stops the token).
type OwnedToken struct {
	Token
	Owner         string
	OwnerRole     string
	OwnerDisabled bool
}

// Change statuses. The lifecycle (README, "Change lifecycle"):
//
//	proposed ─approve─▶ approved ─▶ applying ─▶ applied ─confirm─▶ confirmed
//	    └─reject─▶ rejected            │            └─deadline/rollback─▶ reverted
//	                                   └─▶ failed
//
// Without approval a change is created as applying.
const (
	StatusProposed  = "proposed"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusApplying  = "applying"
	StatusApplied   = "applied"
	StatusFailed    = "failed"
	StatusReverted  = "reverted"
	StatusConfirmed = "confirmed"
)

// Change is one attempted change of the range, applied or failed.
type Change struct {
	ID         int64
	Status     string
	Low, High  int
	BeforeLow  int
	BeforeHigh int
	Reason     string
	UserID     int64
	User       string // user name at the time of the change
	CreatedAt  time.Time
	File       string // managed file path
	Diff       string // unified diff of the managed file ("" if unchanged)
	Error      string // why it failed ("" when applied)
	RollbackOf *int64
	Warnings   []string
	// FileExisted and FileBefore are the managed file before the change,
	// kept so a rollback can restore it byte for byte.
	FileExisted bool
	FileBefore  []byte
	// FileAfterHash is the state of the file after the change: hex SHA-256
	// of FileAfter, or "absent" when the change removes the file; "" when
	// the change never got as far as planning the file.
	FileAfterHash string

	// Notes say what the file editor did ("added at the end of the file").
	Notes []string
	// FileAfter is the planned content of the managed file (nil when the
	// change removes it), written by the apply and by crash recovery.
	FileAfter  []byte
	RemoveFile bool
	// BaseFileHash is the state of the managed file the change was planned
	// on (same encoding as FileAfterHash): if the file differs at apply
	// time, someone edited it since and the change is refused as stale.
	BaseFileHash string
	// ConfirmWithin is the commit-confirmed window (0: none); ConfirmBy is
	// the deadline, set when the change is applied.
	ConfirmWithin time.Duration
	ConfirmBy     *time.Time
	// DecidedBy approved or rejected a proposal, at DecidedAt, with
	// DecisionReason (required for a rejection).
	DecidedBy      string
	DecidedAt      *time.Time
	DecisionReason string
	ConfirmedBy    string
	ConfirmedAt    *time.Time
	// Emergency marks a rollback applied without approval while approval
	// is required (by an approver or admin).
	Emergency bool
	// UpdatedAt is when the status last changed (CreatedAt at first).
	UpdatedAt time.Time
	// Hazards are what the change was found to risk when planned (for a
	// proposal, again when approved); Acknowledged are the codes of those
	// someone acknowledged (see change.Hazard).
	Hazards      []Hazard
	Acknowledged []string
	// ReservedPorts is the ip_local_reserved_ports list the change sets
	// and BeforeReservedPorts the kernel's list before it, both as the
	// kernel prints them ("" for none); both nil when the change leaves
	// the key alone.
	ReservedPorts       *string
	BeforeReservedPorts *string
	// Host is the enrolled host the change is for; "" is the local host
	// (the panel's own kernel and file). A remote change is applied by
	// the host's agent: BaseGeneration is the host's desired-state
	// generation it was planned against, Generation the one it was sent
	// as (0: not sent), AgentResult the agent's last word on it (one of
	// agentapi's Result states; "" until it reports).
	Host           string
	BaseGeneration int64
	Generation     int64
	AgentResult    string
}

// Hazard is one thing a change would put at risk, which someone must
// acknowledge before it is applied: Code is stable ("small-range"),
// Message a sentence for a person.
type Hazard struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// AuditEvent is one entry of the append-only, hash-chained audit log.
type AuditEvent struct {
	ID       int64
	At       time.Time
	User     string // "" for the system
	Action   string // e.g. "change.applied", "login.failed"
	Detail   string
	ChangeID *int64
	PrevHash string
	Hash     string
}

// Sample sources.
const (
	SourceStart    = "start"
	SourceChange   = "change"
	SourceExternal = "external"
	SourceSample   = "sample"
)

// Sample is one observation of the runtime range.
type Sample struct {
	ID     int64
	At     time.Time
	Low    int
	High   int
	Source string
	// ReservedPorts is ip_local_reserved_ports as the kernel printed it;
	// nil for samples from before it was recorded.
	ReservedPorts *string
}

// Usage sources: how the sampler read the sockets.
const (
	UsageSourceNetlink = "netlink"
	UsageSourceProc    = "proc"
)

// MaxUsageDestinations is how many destinations a UsageSample keeps.
const MaxUsageDestinations = 10

// UsageDestination is one destination's share of the ephemeral ports.
type UsageDestination struct {
	LocalIP     string  `json:"local_ip"`
	Destination string  `json:"destination"` // "IP:PORT"
	Sockets     int     `json:"sockets"`
	Risk        float64 `json:"risk"` // Sockets / capacity, 0..1
}

// UsageSample is one sampler snapshot of ephemeral port usage.
type UsageSample struct {
	ID                  int64
	At                  time.Time
	Source              string // UsageSourceNetlink or UsageSourceProc
	RangeLow, RangeHigh int
	Capacity            int
	InUse               int // sockets with a local port in the range
	Bound, UDP          int
	TCPTotal            int
	TimeWait            int
	Established         int
	BusiestDestination  string // "IP:PORT", "" when there is none
	BusiestSockets      int
	BusiestRisk         float64
	SharedUse           float64
	TCPStates           map[string]int // nil when empty
	// Destinations are the busiest first, at most MaxUsageDestinations;
	// nil when empty.
	Destinations []UsageDestination
}
