// Package views renders portpanel's pages as templ components. A view is a
// pure function of the page struct it is given: it never queries anything
// and imports only value types.
package views

import (
	"time"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// Chrome is what every page's frame needs: title, navigation, who is signed
// in, the CSRF token for its forms, and the flash message of the last POST.
type Chrome struct {
	Title string
	// Nav is the active section: "dashboard", "changes", "history", "namespaces", "audit" or "".
	Nav  string
	User string // "" when nobody is signed in
	Role string
	// CSRF is the session's token, sent as the hidden field "csrf" in every form.
	CSRF string
	Host string
	// Netns is set when portpanel runs in a network namespace other than the host's.
	Netns      string
	Flash      string
	FlashError bool
	// Banners are warnings shown above everything on every page (e.g. drift).
	Banners []string
	Now     time.Time
	// Awaiting is the applied change that reverts itself at Awaiting.ConfirmBy
	// unless confirmed: every page shows it as a banner with a countdown and,
	// when CanConfirm, Confirm and Roll back buttons. nil when none.
	Awaiting   *db.Change
	CanConfirm bool
	// Pending is the number of proposals waiting for approval, shown in the
	// navigation (Nav "pending") when approval is required.
	Pending         int
	RequireApproval bool
}

// LoginPage is the sign-in form.
type LoginPage struct {
	Chrome
	Username string
	Error    string
	// Next is the local path to go to after signing in (the page that sent
	// the user here).
	Next string
}

// SetupPage creates the first admin with the one-time setup token.
type SetupPage struct {
	Chrome
	Token    string
	Username string
	Errors   map[string]string // field name → message
}

// ChangeForm is the change form's values and its errors by field
// ("low", "high", "reason"); Error is a message not tied to one field.
type ChangeForm struct {
	Low, High, Reason string
	// ConfirmWithin is the auto-revert window in seconds: "0" (off), "120",
	// "300", "900" or "3600".
	ConfirmWithin string
	// BaseLow and BaseHigh are the running range the author saw, sent as
	// hidden fields so a change made meanwhile is refused as stale.
	BaseLow, BaseHigh string
	// BaseFile is the managed file's state shown in the preview, sent back
	// on confirm so a file edited meanwhile is refused as stale.
	BaseFile string
	// SetReserved makes the change also set ip_local_reserved_ports to
	// ReservedPorts (as typed). BaseReserved is the list the author saw,
	// sent as a hidden field so a list changed meanwhile is refused as
	// stale.
	SetReserved   bool
	ReservedPorts string
	BaseReserved  string
	// BaseGeneration is a remote host's desired-state generation the
	// author saw ("" for the local host).
	BaseGeneration string
	Errors         map[string]string
	Error          string
}

// ConfirmWindows are the auto-revert choices the form offers, in seconds.
var ConfirmWindows = []int{0, 120, 300, 900, 3600}

// PreviewPage shows what a change will do before anything is touched:
// runtime and port count before and after, warnings, and the diff of the
// managed file exactly as it will be written. Confirming posts Form again
// with confirm=yes.
type PreviewPage struct {
	Chrome
	// Host is the enrolled host the change is for ("" for the local
	// host): the forms post to its route.
	Host          string
	Form          ChangeForm
	Before, After sysctl.Range
	Warnings      []string
	// Notes say what the file editor will do ("added at the end").
	Notes []string
	File  string
	Diff  string
	// RequiresApproval: confirming records a proposal for a second person.
	RequiresApproval bool
	// Impact is what the new range would do to the sockets open now; nil
	// unless the range narrows and the sampler has scanned. Risk levels
	// the busiest destination's new share.
	Impact *usage.Impact
	Risk   RiskThresholds
	// BeforeReserved is ip_local_reserved_ports now; AfterReserved the
	// list the change sets (nil: it leaves them alone).
	BeforeReserved string
	AfterReserved  *string
	// Reserve, when not nil, offers to reserve in the same change the
	// listening ports inside the new range that are not reserved.
	Reserve *ReserveOffer
	// Hazards each need their checkbox ticked to apply (Acknowledged: the
	// ones ticked on the last submit); HazardError says that some were
	// not. Listeners are the ports services listen on inside After;
	// ReserveFix is the setting that reserves the unreserved ones.
	Hazards      []db.Hazard
	Acknowledged []string
	HazardError  string
	Listeners    []usage.Collision
	ReserveFix   string
}

// ReserveOffer is the review page's one-click fix for listening ports
// inside the new range: review the same change again, now also setting
// the reserved ports to Ports (the current list plus the Count ports).
type ReserveOffer struct {
	Count int
	Ports string
}

// PendingPage lists proposals waiting for approval, oldest first.
type PendingPage struct {
	Chrome
	Proposals []db.Change
	// CanDecide is true for approvers and admins; nobody decides on their
	// own proposal (Chrome.User), which the page says instead of a button.
	CanDecide bool
}

// DashboardPage shows the range now and after reboot, warnings, the change
// form and the latest changes.
type DashboardPage struct {
	Chrome
	Kernel sysctl.KernelState
	Boot   sysctl.BootReport
	File   string // the managed sysctl file
	Drift  bool   // runtime differs from the boot value
	// ReservedDrift: the running reserved ports differ from their boot
	// value (Boot.Boot.Reserved).
	ReservedDrift bool
	Warnings      []string
	// CanChange is true for operators and admins.
	CanChange bool
	Form      ChangeForm
	Recent    []db.Change
	// RolledBackBy maps a change ID to the change that rolled it back.
	RolledBackBy map[int64]int64
	// Usage is the sampler's latest snapshot; nil before the first one.
	Usage *db.UsageSample
	Risk  RiskThresholds
	// UsageNetns is the network namespace Usage (and the range) is for.
	UsageNetns NetnsLabel
	// Listeners are the ports services listen on (or did in the last
	// days) inside the current range; ReserveFix reserves the ones that
	// are not reserved ("" when none).
	Listeners  []usage.Collision
	ReserveFix string
}

// ListFilter is the filter of the changes and audit lists as given in the
// query string, each field "" when not set. From and To are kept as typed
// (a date from the form, or an RFC 3339 time), so paging and export links
// carry exactly the same filter.
type ListFilter struct {
	User     string
	From, To string
}

// ChangesPage lists changes newest first, with keyset paging.
type ChangesPage struct {
	Chrome
	Filter       ListFilter
	Changes      []db.Change
	RolledBackBy map[int64]int64
	CanChange    bool
	// Next is the "before" cursor of the next (older) page; 0 when none.
	Next int64
}

// ChangePage shows one change with its diff and a rollback form.
type ChangePage struct {
	Chrome
	Change       db.Change
	RolledBackBy []db.Change
	CanRollback  bool
	// CanDecide: the viewer may approve or reject this proposal.
	CanDecide bool
	// CanConfirm: the change awaits confirmation and the viewer may confirm it.
	CanConfirm bool
	// RollbackProposes: a rollback by this viewer becomes a proposal.
	RollbackProposes bool
	// NewHazards are, for a proposal the viewer may decide on, the
	// hazards approving it now would bring that its author did not
	// acknowledge: each needs the approver's checkbox.
	NewHazards []db.Hazard
}

// AuditPage lists audit events newest first.
type AuditPage struct {
	Chrome
	Filter ListFilter
	Events []db.AuditEvent
	Next   int64
	// ChainOK is the result of verifying the hash chain; ChainError says why not.
	ChainOK    bool
	ChainError string
	Verified   int
	// VerifiedFullAt is when the whole chain was last verified (zero: not
	// said); VerifiedNewer events were verified one by one after it. The
	// page says so, as older events are re-verified only by full checks.
	VerifiedFullAt time.Time
	VerifiedNewer  int
}

// HistoryPage charts the range over time and lists samples newest first.
type HistoryPage struct {
	Chrome
	// Chart holds samples oldest first from ChartFrom to ChartTo; the first
	// may lie before ChartFrom (the value at the left edge).
	Chart     []db.Sample
	ChartFrom time.Time
	ChartTo   time.Time
	// Window is the chart's span: "1h", "24h", "7d" or "30d".
	Window  string
	Samples []db.Sample
	Next    int64
	// Usage holds the usage chart's points oldest first: raw samples, or
	// for 7d and 30d hourly aggregates followed by the raw samples of the
	// hours not folded yet.
	Usage []db.UsagePoint
	// Changes are the changes that may have taken effect in the window,
	// so the charts can link each change marker to its change.
	Changes []db.ChangeMark
	Risk    RiskThresholds
}

// ErrorPage is a styled error with what to do next.
type ErrorPage struct {
	Chrome
	Code    int
	Title   string
	Message string
	// NextLabel and NextHref offer the way on, e.g. "Start a new change
	// from the current state" after a stale change (409).
	NextLabel, NextHref string
}
