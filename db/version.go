package db

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// Pages read the same few rows on every request (the signed-in user, the
// session, the latest changes), while the database changes a few times a
// minute. Memo caches what a page reads until the database changes, so a
// page view costs no query at all when nothing changed, and any change
// shows on the next request:
//
//   - a write by this process is counted by the connection wrapper
//     (driver.go) once it is committed, and seen at once;
//   - a write by another process (`portpanel user disable` run from a
//     shell while the server runs) is seen through SQLite's data_version,
//     asked at most every SharedPoll: a query costs 5–10 µs, the whole
//     budget of a request of the API, so not on every request.

// SharedPoll is how often data_version is asked, so how late a write by
// another process can show.
const SharedPoll = time.Second

// Version identifies the state of the database as this process knows it.
type Version struct{ local, shared int64 }

// versionConn is a connection kept aside for data_version, which counts the
// commits of every connection but the one asking: it never writes.
type versionConn struct {
	mu     sync.Mutex
	conn   *sql.Conn
	stmt   *sql.Stmt
	asked  time.Time
	shared int64
}

// Version returns the database's state: it differs from any earlier answer
// when this process has written since, or another process had SharedPoll
// ago. Within a request made read-only by WithSnapshot, it is computed once.
func (d *DB) Version(ctx context.Context) (Version, error) {
	snap, _ := ctx.Value(snapshotKey{}).(*snapshot)
	if snap != nil && snap.ok {
		return snap.version, nil
	}
	// Read before the shared part: a local write that lands in between
	// makes the answer older, never newer, than the data read after it.
	local := d.committed.n.Load()
	shared, err := d.sharedVersion(ctx)
	if err != nil {
		return Version{}, err
	}
	v := Version{local: local, shared: shared}
	if snap != nil {
		snap.version, snap.ok = v, true
	}
	return v, nil
}

func (d *DB) sharedVersion(ctx context.Context) (int64, error) {
	vc := &d.version
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.stmt != nil && time.Since(vc.asked) < SharedPoll {
		return vc.shared, nil
	}
	if vc.stmt == nil {
		conn, err := d.sql.Conn(ctx)
		if err != nil {
			return 0, fmt.Errorf("reserve the data_version connection: %w", err)
		}
		stmt, err := conn.PrepareContext(ctx, "PRAGMA data_version")
		if err != nil {
			conn.Close()
			return 0, fmt.Errorf("prepare data_version: %w", err)
		}
		vc.conn, vc.stmt = conn, stmt
	}
	if err := vc.stmt.QueryRowContext(ctx).Scan(&vc.shared); err != nil {
		return 0, fmt.Errorf("read data_version: %w", err)
	}
	vc.asked = time.Now()
	return vc.shared, nil
}

func (vc *versionConn) close() {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.stmt != nil {
		vc.stmt.Close()
		vc.conn.Close()
		vc.stmt, vc.conn = nil, nil
	}
}

type snapshotKey struct{}

type snapshot struct {
	version Version
	ok      bool
}

// WithSnapshot returns a context in which Version is computed at most once,
// so a request's cached reads all see the database as of its start. Only
// for requests that write nothing they then read back (GET and HEAD): a
// write inside it would not be seen by later Memo reads in the same
// request.
func WithSnapshot(ctx context.Context) context.Context {
	return context.WithValue(ctx, snapshotKey{}, &snapshot{})
}

// memoMax bounds a Memo's entries between commits, against keys an
// attacker chooses (unknown tokens are not cached, but known ones are).
const memoMax = 1024

// Memo caches values read from the database, by key, until the database
// changes (see Version). Values are shared between requests: callers must
// not modify them. The zero Memo is ready to use.
type Memo[K comparable, V any] struct {
	mu      sync.Mutex
	version Version
	entries map[K]V
}

// Get returns the value for key, from the cache if nothing was committed
// since it was loaded, else from load (errors are not cached).
func (m *Memo[K, V]) Get(ctx context.Context, d *DB, key K, load func(context.Context) (V, error)) (V, error) {
	v, err := d.Version(ctx)
	if err != nil {
		var zero V
		return zero, err
	}
	m.mu.Lock()
	if m.version == v && m.entries != nil {
		if val, ok := m.entries[key]; ok {
			m.mu.Unlock()
			return val, nil
		}
	}
	m.mu.Unlock()
	// Loaded after v was read, so what is stored is at least as new as v.
	val, err := load(ctx)
	if err != nil {
		return val, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != v || m.entries == nil || len(m.entries) >= memoMax {
		m.version, m.entries = v, make(map[K]V)
	}
	m.entries[key] = val
	return val, nil
}

// memos are the DB's own caches, of what nearly every request reads.
type memos struct {
	users  Memo[int64, User]
	tokens Memo[string, tokenOwner]
}
