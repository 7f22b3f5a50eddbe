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

// ErrConflict is returned when a row would violate a uniqueness rule.
var ErrConflict = errors.New("already exists")

// Roles, from least to most privileged.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// User is a local account.
type User struct {
	ID           int64
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
}

// Token is an API token; only its SHA-256 hash is stored.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Change statuses.
const (
	StatusApplied = "applied"
	StatusFailed  = "failed"
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
	// FileAfterHash is the hex SHA-256 of the file as written ("" when the
	// file was not written), to tell whether anything touched it since.
	FileAfterHash string
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
}
