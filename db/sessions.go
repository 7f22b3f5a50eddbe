package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// SessionStore keeps github.com/alexedwards/scs sessions in the sessions
// table, in the layout of scs's sqlite3store (expiry a Julian day number),
// which portpanel used before. It exists for Memo: every signed-in request
// loads its session, and the cached copy saves that query until the next
// commit. It implements scs.CtxStore.
//
// The same store serves PostgreSQL, rather than scs's postgresstore: that
// store would cost a query per signed-in request (no Memo), run a cleanup
// goroutine of its own beside serve's jobs, and be a second code path with
// its own table layout to migrate. Tokens are hashed before they reach
// any store (scs's HashTokenInStore, set by web.NewSessions), so the
// choice of store leaves that protection as it is. The Julian days are
// computed here, in Go, so no query uses SQLite's julianday().
type SessionStore struct {
	d    *DB
	memo Memo[string, storedSession]
}

type storedSession struct {
	data   []byte
	expiry time.Time
}

// Sessions returns the session store.
func (d *DB) Sessions() *SessionStore { return &SessionStore{d: d} }

// julianday of the Unix epoch, and the milliseconds in a day.
const (
	unixJulianDay = 2440587.5
	msPerDay      = 86400000.0
)

// julianDay is t as SQLite's julianday() gives it: days since noon UTC,
// 24 November 4714 BC, as a float (precise to well under a millisecond
// for the next few thousand years).
func julianDay(t time.Time) float64 { return unixJulianDay + float64(t.UnixMilli())/msPerDay }

var errNoSession = errors.New("no such session")

// FindCtx returns a live session's data; found is false for an unknown or
// expired token.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	got, err := s.memo.Get(ctx, s.d, token, func(ctx context.Context) (storedSession, error) {
		var st storedSession
		var ms float64
		err := s.d.sql.QueryRowContext(ctx,
			`SELECT data, expiry FROM sessions WHERE token = $1 AND expiry > $2`,
			token, julianDay(time.Now())).Scan(&st.data, &ms)
		if errors.Is(err, sql.ErrNoRows) {
			return st, errNoSession
		} else if err != nil {
			return st, fmt.Errorf("load session: %w", err)
		}
		st.expiry = time.UnixMilli(int64(math.Round((ms - unixJulianDay) * msPerDay)))
		return st, nil
	})
	switch {
	case errors.Is(err, errNoSession):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case !time.Now().Before(got.expiry):
		// Cached, but it expired since.
		return nil, false, nil
	}
	return got.data, true, nil
}

// CommitCtx stores a session's data until expiry.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.d.sql.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, b, julianDay(expiry))
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// DeleteCtx removes a session.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.d.sql.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// Find, Commit and Delete are the context-free scs.Store methods; scs calls
// the Ctx ones when a store has them.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// DeleteExpiredSessions removes sessions past their expiry; FindCtx ignores
// them anyway, this only keeps the table small.
func (s *SessionStore) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.d.sql.ExecContext(ctx, `DELETE FROM sessions WHERE expiry < $1`, julianDay(time.Now()))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
