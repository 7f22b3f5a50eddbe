package change

import (
	"errors"

	"portpanel/db"
)

// InvalidError is a request portpanel refuses before touching anything.
type InvalidError struct {
	Field   string // "low", "high", "reason", "value"
	Message string
}

func (e *InvalidError) Error() string { return e.Message }

// ErrConflict is returned when a request cannot be done in the current state
// (rolling back a failed change, or one already rolled back).
var ErrConflict = errors.New("conflict")

// ConflictError says why a request conflicts with the current state.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return e.Message }

// Unwrap lets callers test errors.Is(err, ErrConflict).
func (e *ConflictError) Unwrap() error { return ErrConflict }

// FailedError is returned when an attempt was made and recorded as a failed
// change: the kernel refused the value (KernelRefused), or the file could
// not be written and the kernel was put back.
type FailedError struct {
	Change        db.Change
	KernelRefused bool
	Err           error
}

func (e *FailedError) Error() string { return e.Change.Error }

func (e *FailedError) Unwrap() error { return e.Err }

// ErrForbidden is returned when the actor may not do this to this change,
// whatever their role (approving their own proposal).
var ErrForbidden = errors.New("forbidden")

// ForbiddenError says why.
type ForbiddenError struct{ Message string }

func (e *ForbiddenError) Error() string { return e.Message }

// Unwrap lets callers test errors.Is(err, ErrForbidden).
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }
