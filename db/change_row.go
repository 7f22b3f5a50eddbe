package db

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// mutableColumns are the columns of a change that Transition may write, in
// the order mutableValues returns them; RecordChange writes them too, so
// the two cannot drift apart. The rest (who, why, when created, which file,
// what it rolls back) is fixed when the change is recorded.
const mutableColumns = `status, low, high, before_low, before_high, diff, error, warnings,
	notes, file_existed, file_before, file_after, remove_file, file_after_hash, base_file_hash,
	confirm_within, confirm_by, decided_by, decided_at, decision_reason, confirmed_by,
	confirmed_at, emergency, updated_at, hazards, acknowledged, reserved_ports, before_reserved_ports,
	generation, agent_result`

// mutableSet is mutableColumns as an UPDATE's SET list, its values $1 to
// $mutableCount.
var mutableSet = func() string {
	cols := strings.Split(mutableColumns, ",")
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c) + " = " + param(i+1)
	}
	return strings.Join(cols, ", ")
}()

// mutableCount is how many columns mutableColumns names.
var mutableCount = strings.Count(mutableColumns, ",") + 1

// mutableValues validates c, normalises it in place to what a later read
// returns, and returns the values of mutableColumns. c.UpdatedAt must be
// set by the caller.
func mutableValues(c *Change) ([]any, error) {
	if !knownStatuses[c.Status] {
		return nil, fmt.Errorf("unknown status %q", c.Status)
	}
	if c.ConfirmWithin < 0 {
		return nil, fmt.Errorf("confirmation window %s is negative", c.ConfirmWithin)
	}
	c.Warnings = normStrings(c.Warnings)
	c.Notes = normStrings(c.Notes)
	c.FileBefore = normFileBefore(c.FileExisted, c.FileBefore)
	if c.RemoveFile {
		c.FileAfter = nil // there is no content to write
	}
	c.ConfirmWithin = c.ConfirmWithin.Truncate(time.Second) // stored in seconds
	c.ConfirmBy, c.DecidedAt, c.ConfirmedAt = normTime(c.ConfirmBy), normTime(c.DecidedAt), normTime(c.ConfirmedAt)
	c.UpdatedAt = fromMS(toMS(c.UpdatedAt))
	warnings, err := json.Marshal(c.Warnings)
	if err != nil {
		return nil, fmt.Errorf("encode warnings: %w", err)
	}
	notes, err := json.Marshal(c.Notes)
	if err != nil {
		return nil, fmt.Errorf("encode notes: %w", err)
	}
	hazards, acked, err := encodeHazards(c)
	if err != nil {
		return nil, err
	}
	if (c.ReservedPorts == nil) != (c.BeforeReservedPorts == nil) {
		return nil, fmt.Errorf("reserved ports: a change that sets them has both a before and an after value")
	}
	return []any{c.Status, c.Low, c.High, c.BeforeLow, c.BeforeHigh, c.Diff, c.Error, string(warnings),
		string(notes), c.FileExisted, c.FileBefore, c.FileAfter, c.RemoveFile, c.FileAfterHash, c.BaseFileHash,
		int64(c.ConfirmWithin / time.Second), msOrNil(c.ConfirmBy), c.DecidedBy, msOrNil(c.DecidedAt),
		c.DecisionReason, c.ConfirmedBy, msOrNil(c.ConfirmedAt), c.Emergency, toMS(c.UpdatedAt), hazards, acked,
		c.ReservedPorts, c.BeforeReservedPorts, c.Generation, c.AgentResult}, nil
}

// normStrings makes "no warnings" (or notes) one value (nil), whatever was
// passed.
func normStrings(w []string) []string {
	if len(w) == 0 {
		return nil
	}
	return w
}

// normFileBefore keeps "file absent" (nil, stored NULL) apart from "file
// existed and was empty" (non-nil, stored as an empty BLOB), which a
// rollback must restore differently.
func normFileBefore(existed bool, b []byte) []byte {
	switch {
	case !existed:
		return nil
	case b == nil:
		return []byte{}
	}
	return b
}

// changeColumns ends with whether file_after is set: modernc scans an
// empty BLOB as a nil []byte, which would turn "write an empty file" into
// "no content".
const changeColumns = `id, reason, user_id, user_name, created_at, file, rollback_of, host, base_generation, ` +
	mutableColumns + `, file_after IS NOT NULL`

func scanChange(row interface{ Scan(...any) error }) (Change, error) {
	var c Change
	var created, updated, confirmWithin int64
	var rollbackOf, confirmBy, decidedAt, confirmedAt sql.NullInt64
	var warnings, notes, hazards, acked string
	var hasFileAfter bool
	var reserved, beforeReserved sql.NullString
	err := row.Scan(&c.ID, &c.Reason, &c.UserID, &c.User, &created, &c.File, &rollbackOf, &c.Host, &c.BaseGeneration,
		&c.Status, &c.Low, &c.High, &c.BeforeLow, &c.BeforeHigh, &c.Diff, &c.Error, &warnings,
		&notes, &c.FileExisted, &c.FileBefore, &c.FileAfter, &c.RemoveFile, &c.FileAfterHash, &c.BaseFileHash,
		&confirmWithin, &confirmBy, &c.DecidedBy, &decidedAt, &c.DecisionReason, &c.ConfirmedBy,
		&confirmedAt, &c.Emergency, &updated, &hazards, &acked, &reserved, &beforeReserved,
		&c.Generation, &c.AgentResult, &hasFileAfter)
	if err != nil {
		return Change{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	if rollbackOf.Valid {
		c.RollbackOf = &rollbackOf.Int64
	}
	c.ConfirmWithin = time.Duration(confirmWithin) * time.Second
	c.ReservedPorts, c.BeforeReservedPorts = stringOrNil(reserved), stringOrNil(beforeReserved)
	c.ConfirmBy, c.DecidedAt, c.ConfirmedAt = timeOrNil(confirmBy), timeOrNil(decidedAt), timeOrNil(confirmedAt)
	c.FileBefore = normFileBefore(c.FileExisted, c.FileBefore)
	if hasFileAfter && c.FileAfter == nil {
		c.FileAfter = []byte{}
	}
	var werr, nerr error
	c.Warnings, werr = decodeStrings(warnings, "warnings", c.ID)
	c.Notes, nerr = decodeStrings(notes, "notes", c.ID)
	herr := decodeHazards(&c, hazards, acked)
	if err := errors.Join(werr, nerr, herr); err != nil {
		return Change{}, err
	}
	return c, nil
}

func stringOrNil(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

// msOrNil stores an optional time: NULL means "not yet".
func msOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return toMS(*t)
}

// normTime truncates an optional time to the stored precision, in a copy,
// so what a method returns equals what a later read returns.
func normTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := fromMS(toMS(*t))
	return &v
}

func timeOrNil(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMS(ms.Int64)
	return &t
}

func decodeStrings(s string, what string, id int64) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("decode %s of change %d: %w", what, id, err)
	}
	return normStrings(out), nil
}
