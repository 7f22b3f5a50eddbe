// Package views renders portpanel's pages as templ components. A view is a
// pure function of the page struct it is given: it never queries anything
// and imports only value types.
package views

import (
	"time"

	"portpanel/db"
	"portpanel/sysctl"
)

// Chrome is what every page's frame needs: title, navigation, who is signed
// in, the CSRF token for its forms, and the flash message of the last POST.
type Chrome struct {
	Title string
	// Nav is the active section: "dashboard", "changes", "history", "audit" or "".
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
}

// LoginPage is the sign-in form.
type LoginPage struct {
	Chrome
	Username string
	Error    string
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
	Errors            map[string]string
	Error             string
}

// DashboardPage shows the range now and after reboot, warnings, the change
// form and the latest changes.
type DashboardPage struct {
	Chrome
	Kernel   sysctl.KernelState
	Boot     sysctl.BootReport
	File     string // the managed sysctl file
	Drift    bool   // runtime differs from the boot value
	Warnings []string
	// CanChange is true for operators and admins.
	CanChange bool
	Form      ChangeForm
	Recent    []db.Change
	// RolledBackBy maps a change ID to the change that rolled it back.
	RolledBackBy map[int64]int64
}

// ChangesPage lists changes newest first, with keyset paging.
type ChangesPage struct {
	Chrome
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
}

// AuditPage lists audit events newest first.
type AuditPage struct {
	Chrome
	Events []db.AuditEvent
	Next   int64
	// ChainOK is the result of verifying the hash chain; ChainError says why not.
	ChainOK    bool
	ChainError string
	Verified   int
}

// HistoryPage charts the range over time and lists samples newest first.
type HistoryPage struct {
	Chrome
	// Chart holds samples oldest first from ChartFrom to ChartTo; the first
	// may lie before ChartFrom (the value at the left edge).
	Chart     []db.Sample
	ChartFrom time.Time
	ChartTo   time.Time
	// Window is the chart's span: "24h", "7d" or "30d".
	Window  string
	Samples []db.Sample
	Next    int64
}

// ErrorPage is a styled error with what to do next.
type ErrorPage struct {
	Chrome
	Code    int
	Title   string
	Message string
}
