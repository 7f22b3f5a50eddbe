package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Verifying the whole audit chain costs time in proportion to the log
// (seconds at a million events), far too much for every view of the audit
// page. So a DB remembers the newest event it has verified, the head, and
// the page's check (CheckAudit) verifies only the events appended after it,
// linking the first of them to the remembered hash, plus the head row
// itself. Between full checks that catches any change to the events
// written since, and to the head, but not a change to an older event: an
// old row's tampering is found by the next full check, which VerifyAudit
// makes (the `portpanel audit verify` command, the first CheckAudit of a
// process unless serve's hourly check got there first, and that check).
// ChainStatus says which is which, so the page can say exactly what was checked and when.

// auditChain is the chain's verification state, in memory only: a new
// process starts with a full check. Its zero value means "nothing verified
// yet".
type auditChain struct {
	// full serializes full checks, so concurrent first page views wait for
	// one check instead of each reading the whole log.
	full sync.Mutex

	mu       sync.Mutex // guards the fields below
	anchored bool       // a full check has verified the chain up to head
	headID   int64      // the newest verified event (0: the log was empty)
	headHash string
	verified int       // events verified from the first up to head
	fullAt   time.Time // when the last full check that passed read its snapshot
	fullN    int       // events it verified
	// broken is the first break found, kept until a full check that began
	// after it was found passes: tampering does not heal by itself.
	broken   *ChainError
	brokenAt time.Time
}

// ChainStatus is what a DB has verified of the audit chain.
type ChainStatus struct {
	Verified int       // events verified in chain order, oldest first, up to the newest read
	FullAt   time.Time // when the last full check read the log (zero: none yet)
	FullN    int       // events that full check verified
	Newer    int       // events verified after it, one by one as they were appended
}

// VerifyAudit recomputes the whole audit chain, oldest first. It returns
// how many events verified; if one does not, it stops there with a
// *ChainError naming it. Its result becomes the base of later CheckAudit
// calls on d.
func (d *DB) VerifyAudit(ctx context.Context) (int, error) {
	c := &d.chain
	c.full.Lock()
	defer c.full.Unlock()
	return d.verifyFull(ctx)
}

// verifyFull is VerifyAudit with c.full held.
func (d *DB) verifyFull(ctx context.Context) (int, error) {
	c := &d.chain
	start := time.Now()
	r, err := d.verifyFrom(ctx, 0, "", "verify audit log")
	var ce *ChainError
	switch {
	case errors.As(err, &ce):
		c.mu.Lock()
		c.markBroken(ce)
		c.mu.Unlock()
		return r.n, err
	case err != nil:
		return r.n, err // could not read: says nothing of the chain
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil && start.After(c.brokenAt) {
		// The whole log, read after the break was seen, verifies again
		// (the row was put back): the break is over.
		c.broken = nil
	}
	c.fullAt, c.fullN = start, r.n
	// A CheckAudit made during this check may have moved the head past
	// this check's snapshot; it stays, verified from the previous base.
	if !c.anchored || r.lastID >= c.headID {
		c.headID, c.headHash, c.verified = r.lastID, r.lastHash, r.n
	}
	c.anchored = true
	return r.n, nil
}

// markBroken records the break ce, unless one is already recorded. c.mu
// must be held.
func (c *auditChain) markBroken(ce *ChainError) {
	if c.broken == nil {
		c.broken, c.brokenAt = ce, time.Now()
	}
}

// CheckAudit verifies the events appended since the last check on d, and
// the newest event verified before them (the head), and returns what is
// verified so far. The first call on d, or the first after a full check
// failed to read the log, verifies the whole chain instead (VerifyAudit).
// Once a break is found, CheckAudit returns it, without reading, until a
// full check that starts after it passes.
func (d *DB) CheckAudit(ctx context.Context) (ChainStatus, error) {
	c := &d.chain
	c.mu.Lock()
	anchored := c.anchored || c.broken != nil
	c.mu.Unlock()
	if !anchored {
		c.full.Lock()
		c.mu.Lock()
		anchored = c.anchored || c.broken != nil // another caller's full check may have run meanwhile
		c.mu.Unlock()
		var err error
		if !anchored {
			_, err = d.verifyFull(ctx)
		}
		c.full.Unlock()
		var ce *ChainError
		if err != nil && !errors.As(err, &ce) {
			return ChainStatus{}, err
		}
	}

	// Held while reading: the events since the last check are few, and
	// one check at a time keeps the head's advance simple.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return c.status(), c.broken
	}
	r, err := d.verifyFrom(ctx, c.headID, c.headHash, "check audit log")
	var ce *ChainError
	switch {
	case errors.As(err, &ce):
		c.markBroken(ce)
		return c.status(), ce
	case err != nil:
		return c.status(), err
	}
	if r.n > 0 {
		c.headID, c.headHash = r.lastID, r.lastHash
		c.verified += r.n
	}
	return c.status(), nil
}

// ChainChecked is what d has verified of the audit chain so far, without
// reading anything (CheckAudit reads what is new).
func (d *DB) ChainChecked() ChainStatus {
	d.chain.mu.Lock()
	defer d.chain.mu.Unlock()
	return d.chain.status()
}

// ChainBroken is the break a check of d found and that no full check
// begun since has cleared, or nil; like ChainChecked it reads nothing.
func (d *DB) ChainBroken() *ChainError {
	d.chain.mu.Lock()
	defer d.chain.mu.Unlock()
	return d.chain.broken
}

// status is c's ChainStatus. c.mu must be held.
func (c *auditChain) status() ChainStatus {
	return ChainStatus{Verified: c.verified, FullAt: c.fullAt, FullN: c.fullN, Newer: c.verified - c.fullN}
}

// verifyQuery reads the chain from an event on, in chain order.
const verifyQuery = `SELECT ` + auditColumns + ` FROM audit_events WHERE id >= $1 ORDER BY id`

// verified says how far verifyFrom got.
type verified struct {
	n        int // events verified after the head it started from
	lastID   int64
	lastHash string
}

// verifyFrom verifies the events after headID, the first of which must
// link to headHash, and, unless headID is 0 (from the start of the log),
// the event headID itself, which must still hash to headHash: a head
// rewritten or removed would otherwise go unseen, as no later event is
// checked against it once verified. It returns a *ChainError for the first
// event that does not verify.
func (d *DB) verifyFrom(ctx context.Context, headID int64, headHash, what string) (verified, error) {
	r := verified{lastID: headID, lastHash: headHash}
	// One statement reads one WAL snapshot, so appends made meanwhile
	// cannot make a sound chain look broken. id >= headID: the head row
	// comes first (the primary key bounds the read to the new events).
	rows, err := d.sql.QueryContext(ctx, verifyQuery, headID)
	if err != nil {
		return r, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	headSeen := headID == 0
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return r, fmt.Errorf("%s: read the event after %d: %w", what, r.lastID, err)
		}
		if !headSeen {
			headSeen = true
			if e.ID != headID || e.Hash != headHash || AuditHash(e) != e.Hash {
				return r, &ChainError{ID: headID, Reason: "the newest event verified before was changed or removed since"}
			}
			continue
		}
		switch {
		case e.PrevHash != r.lastHash:
			return r, &ChainError{ID: e.ID, Reason: "prev_hash does not match the previous event's hash (an event was removed, inserted or changed before it)"}
		case AuditHash(e) != e.Hash:
			return r, &ChainError{ID: e.ID, Reason: "hash does not match its contents (the event was changed)"}
		}
		r.lastID, r.lastHash = e.ID, e.Hash
		r.n++
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("%s: %w", what, err)
	}
	if !headSeen {
		return r, &ChainError{ID: headID, Reason: "the newest event verified before was removed since"}
	}
	return r, nil
}
