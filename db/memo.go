package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
)

// Pages and the API read the same few rows on every request (the session,
// the signed-in user or token, the latest changes), while the database
// changes a few times a minute. Memo keeps what they read until the
// database changes, which SQLite's data_version tells: asked on a
// connection kept for it, it moves with every commit of any other
// connection, this process's pool and another process (`portpanel user
// disable` from a shell) alike. So every change shows on the next request,
// and a page view costs one PRAGMA instead of its queries: without it the
// dashboard and GET /api/v1/range miss their throughput targets
// (BENCHMARKS.md).
//
// PostgreSQL has no data_version; its counterpart is the snapshot a
// statement reads, pg_current_snapshot() (xmin:xmax:in-progress xids).
// A snapshot decides exactly which transactions' writes a statement sees:
// those below xmax, not listed as in progress, and committed. A
// transaction below xmax and not listed had already ended when the
// snapshot was taken, and how it ended never changes, so two statements
// with equal snapshots see the same committed transactions, hence the same
// rows. Conversely a transaction that commits after a snapshot was either
// in progress then (listed) or started later (at or above xmax); in the
// next snapshot it is below xmax and not listed, so the text differs. The
// xids are 64-bit (xid8), so they never wrap around to an old value. Any
// connection may ask (every commit of every client moves it), but one is
// kept for it, as on SQLite, to save taking one from the pool.

// Version identifies a state of the database.
type Version struct {
	// conn counts the connections kept for data_version: a new one starts
	// its own count, which must not match an old one's.
	conn, data int64
	snapshot   string // PostgreSQL's pg_current_snapshot(), data's counterpart
}

// versionConn is the connection kept aside for data_version, which counts
// the commits of every connection but the one asking: it never writes.
//
// Concurrent requests share checks instead of queueing for the connection:
// a caller arriving while a check runs waits for the next one, which starts
// after it arrived and so sees every commit made before it asked, and every
// caller arriving meanwhile gets that same answer. Under 64 concurrent API
// requests this turns a PRAGMA per request into a few per batch.
type versionConn struct {
	mu      sync.Mutex
	running bool
	next    *versionCheck // the check callers arriving during the running one wait for

	connMu sync.Mutex // held by the one caller running a check, and by close
	conns  int64
	conn   *sql.Conn
	stmt   driver.Stmt // of conn, used only inside its Raw
}

// versionCheck is one PRAGMA data_version shared by the callers that
// arrived before it started.
type versionCheck struct {
	start, done chan struct{}
	v           Version
	err         error
}

// Version returns the database's state: it differs from any earlier answer
// once anything was committed since. Within a request made read-only by
// WithSnapshot, it is asked once.
func (d *DB) Version(ctx context.Context) (Version, error) {
	snap, _ := ctx.Value(snapshotKey{}).(*snapshot)
	if snap != nil && snap.ok {
		return snap.version, nil
	}
	v, err := d.version.read(ctx, d.sql, d.dialect)
	if err != nil {
		return Version{}, err
	}
	if snap != nil {
		snap.version, snap.ok = v, true
	}
	return v, nil
}

func (vc *versionConn) read(ctx context.Context, pool *sql.DB, dialect Dialect) (Version, error) {
	vc.mu.Lock()
	if !vc.running {
		vc.running = true
		vc.mu.Unlock()
		v, err := vc.query(ctx, pool, dialect)
		vc.finish()
		return v, err
	}
	c := vc.next
	if c != nil {
		vc.mu.Unlock()
		select {
		case <-c.done:
			return c.v, c.err
		case <-ctx.Done():
			return Version{}, fmt.Errorf("read data_version: %w", ctx.Err())
		}
	}
	// The first to wait runs the next check for everyone who waits with
	// it. It waits for the running check uncancelled, not to strand them:
	// that is one PRAGMA at most.
	c = &versionCheck{start: make(chan struct{}), done: make(chan struct{})}
	vc.next = c
	vc.mu.Unlock()
	<-c.start
	c.v, c.err = vc.query(ctx, pool, dialect)
	vc.finish()
	close(c.done)
	return c.v, c.err
}

// finish ends the running check: the next one, if anyone waits for it,
// starts now, and callers arriving from now on wait for the one after.
func (vc *versionConn) finish() {
	vc.mu.Lock()
	c := vc.next
	vc.next = nil
	vc.running = c != nil
	vc.mu.Unlock()
	if c != nil {
		close(c.start)
	}
}

// versionQuery asks a dialect for the state of its data.
var versionQuery = map[Dialect]string{
	SQLite:   "PRAGMA data_version",
	Postgres: "SELECT pg_current_snapshot()::text",
}

func (vc *versionConn) query(ctx context.Context, pool *sql.DB, dialect Dialect) (Version, error) {
	vc.connMu.Lock()
	defer vc.connMu.Unlock()
	if vc.stmt == nil {
		// The PRAGMA is not worth cancelling, and a shared check must not
		// fail for one caller's cancellation.
		ctx = context.WithoutCancel(ctx)
		conn, err := pool.Conn(ctx)
		if err != nil {
			return Version{}, fmt.Errorf("reserve the data_version connection: %w", err)
		}
		var stmt driver.Stmt
		err = conn.Raw(func(dc any) (err error) {
			stmt, err = dc.(driver.ConnPrepareContext).PrepareContext(ctx, versionQuery[dialect])
			return err
		})
		if err != nil {
			conn.Close()
			return Version{}, fmt.Errorf("prepare data_version: %w", err)
		}
		vc.conn, vc.stmt = conn, stmt
		vc.conns++
	}
	v := Version{conn: vc.conns}
	// Straight to the driver: database/sql's Stmt, Rows and Scan took a
	// third of the check's time.
	err := vc.conn.Raw(func(any) error {
		rows, err := vc.stmt.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
		if err != nil {
			return err
		}
		dest := []driver.Value{nil}
		err = rows.Next(dest)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		switch x := dest[0].(type) {
		case int64:
			v.data = x
		case string:
			v.snapshot = x
		default:
			return fmt.Errorf("data_version is a %T", dest[0])
		}
		return nil
	})
	if err != nil {
		vc.closeLocked() // the next call starts on a new connection
		return Version{}, fmt.Errorf("read data_version: %w", err)
	}
	return v, nil
}

func (vc *versionConn) close() {
	vc.connMu.Lock()
	defer vc.connMu.Unlock()
	vc.closeLocked()
}

func (vc *versionConn) closeLocked() {
	if vc.stmt != nil {
		vc.conn.Raw(func(any) error { return vc.stmt.Close() })
		vc.conn.Close()
		vc.stmt, vc.conn = nil, nil
	}
}

type snapshotKey struct{}

type snapshot struct {
	version Version
	ok      bool
}

// WithSnapshot returns a context in which Version is asked at most once, so
// a request's cached reads all see the database as of its start. Only for
// requests that write nothing they then read back (GET and HEAD): a write
// inside it would not be seen by later Memo reads in the same request.
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
