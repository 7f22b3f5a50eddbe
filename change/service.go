// Package change is the one place where the range is changed: validate,
// preview, propose and approve, write the kernel, read it back, persist the
// config file, record the result and its audit event; confirm, revert, roll
// back, and recover an apply a crash interrupted. It holds the lock that
// makes all of these one at a time. It imports db and sysctl and never HTTP.
package change

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// MaxReasonLen is the longest reason accepted, in characters.
const MaxReasonLen = 500

// MaxConfirmWithin bounds the commit-confirmed window: a day is already
// longer than anyone should leave a change unconfirmed.
const MaxConfirmWithin = 24 * time.Hour

// SystemUser is the name the audit log gives portpanel's own actions
// (automatic reverts, crash recovery).
const SystemUser = "portpanel"

// Service changes the range. Its zero value is not usable: set every field
// except RequireApproval.
type Service struct {
	Kernel sysctl.Kernel
	Config sysctl.Config
	Reader sysctl.Reader
	// File is the managed sysctl config file (absolute path).
	File string
	DB   *db.DB
	Now  func() time.Time
	// RequireApproval makes every change a proposal that another user with
	// role approver or admin must approve before it is applied.
	RequireApproval bool
	// Sockets reads the namespace's sockets for the usage sampler.
	Sockets usage.Reader
	// Fleet reaches the enrolled hosts for remote changes (remote.go);
	// nil: this panel changes its own host only.
	Fleet Fleet
	// RemoteWait bounds how long a request waits for an agent's preview
	// or result (0: DefaultRemoteWait).
	RemoteWait time.Duration
	// LocalHost is the name this panel's own host is enrolled under
	// (serve --local-host; "" none). A change "on a remote host" of that
	// name is a local change: this Service applies it, once, as it does
	// the dashboard's (README, "The local host").
	LocalHost string

	// mu serialises everything that writes the kernel or the file, and the
	// sampler, so a sample never sees an apply half done.
	mu        sync.Mutex
	usage     usageState
	listeners listenerState
	report    reportCache
	// remoteState is remote changes' per-host locks and waiters; they
	// never take mu, which is the local kernel's.
	remoteState remoteState
	// fileWrites counts writes of File, each once done (see reportCache).
	fileWrites atomic.Uint64
}

// Actor is who asks for a change.
type Actor struct {
	ID   int64
	Name string
	Role string
}

// canApprove reports whether a may approve (and so act without approval
// in an emergency): auth decides, as for every other role rule.
func (a Actor) canApprove() bool { return auth.MayApprove(a.Role) }

// Request is a change of the range to Low–High for Reason.
type Request struct {
	Low, High int
	Reason    string
	Actor     Actor
	// Base is the running range the author saw; if the kernel has another
	// value now, the request is stale and refused. nil: not checked.
	Base *sysctl.Range
	// BaseFile is the managed file's state the author previewed (Preview's
	// FileState); if the file differs now, the request is refused. "": not
	// checked.
	BaseFile string
	// ConfirmWithin, if not zero, reverts the change automatically unless
	// someone confirms it within this time.
	ConfirmWithin time.Duration
	// ReservedPorts, if not nil, also sets ip_local_reserved_ports to this
	// list (sysctl.CheckReservedPorts: "8080,9000-9100"; "" reserves
	// none), in the same apply. nil leaves the key alone.
	ReservedPorts *string
	// BaseReserved is ip_local_reserved_ports as the author saw it (as the
	// kernel prints it); if the kernel has another list now, the request
	// is stale and refused. nil: not checked.
	BaseReserved *string
	// Acknowledge lists the hazard codes the author acknowledges (see
	// HazardCodes); a hazardous change is applied only when it names
	// every hazard found.
	Acknowledge []string
	// BaseGeneration is the desired-state generation of the remote host
	// the author saw (Preview.Generation); if the host's is another now,
	// the request is stale and refused. nil: not checked; ignored for
	// the local host.
	BaseGeneration *int64
}

// CheckReason returns the trimmed reason or an InvalidError.
func CheckReason(reason string) (string, error) {
	// Refused, not repaired: the audit log stores what was typed, and its
	// exports (CSV, JSON) and hash chain need text that survives them.
	if !utf8.ValidString(reason) || strings.ContainsRune(reason, 0) {
		return "", &InvalidError{Field: "reason", Message: "The reason must be plain text (valid UTF-8, no NUL characters)."}
	}
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return "", &InvalidError{Field: "reason", Message: "Give a reason for the change: it goes into the audit log."}
	case n > MaxReasonLen:
		return "", &InvalidError{Field: "reason", Message: fmt.Sprintf("The reason has %d characters; keep it to %d.", n, MaxReasonLen)}
	}
	return reason, nil
}

// CheckConfirmWithin refuses a negative, overlong or fractional
// commit-confirmed window: the deadline is kept in whole seconds.
func CheckConfirmWithin(d time.Duration) error {
	if d < 0 || d > MaxConfirmWithin || d%time.Second != 0 {
		return &InvalidError{Field: "confirm_within", Message: fmt.Sprintf(
			"The confirmation window must be a whole number of seconds between 0 (off) and %d.", int(MaxConfirmWithin.Seconds()))}
	}
	return nil
}

// fileState is the state of a file as the database records it: the hex
// SHA-256 of its content, or "absent", so a missing file and an empty one
// differ.
func fileState(content []byte, existed bool) string {
	if !existed {
		return "absent"
	}
	return sysctl.FileHash(content)
}

// currentFileState reads the managed file's state now.
func (s *Service) currentFileState() (string, error) {
	content, existed, err := sysctl.ReadConfigFile(s.File)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", s.File, err)
	}
	return fileState(content, existed), nil
}
