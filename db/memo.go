package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
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
// PostgreSQL has no data_version. Its snapshot (pg_current_snapshot())
// was used once, but every commit moves it, and at 10,000 hosts the
// agents' reports and nonces commit about a thousand times a second: every
// page missed its memo and queued for a render slot (BENCHMARKS.md, fleet
// section). So the version there is the counter of the one-row table
// data_version, which statement-level triggers bump on exactly the tables
// memoized reads depend on (migration 00019; the fleet's tables have
// none, and TestDataVersionCoversMemoizedTables keeps the lists complete).
//
// Reading it at READ COMMITTED, on its own connection outside any
// transaction, is enough: the bump runs inside the writing transaction, so
// it becomes visible in the same instant as the data it stands for, and a
// rollback undoes both. Concurrent writers queue on the row's lock, so
// each commit leaves a different, larger n, and n never goes back. A Memo
// reads the version before loading, so what it keeps is at least as new
// as the version it keeps it under; a commit after that moves n, and the
// next Get loads again. What the counter does not cover (the hosts) must
// not be cached by Version alone: see Version.AllTables.

// Version identifies a state of the database.
type Version struct {
	// conn counts the connections kept for data_version: a new one starts
	// its own count, which must not match an old one's.
	conn, data int64
	// partial: data counts the commits of memoized tables only
	// (PostgreSQL's data_version table), not every table's.
	partial bool
}

// AllTables says whether v moves with a commit to any table. When false
// (PostgreSQL), the fleet's tables may change while v stays the same.
func (v Version) AllTables() bool { return !v.partial }

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
	Postgres: "SELECT n FROM data_version",
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
			if isPgUndefinedTable(err) {
				// A database not yet migrated to 00019 (only migration
				// tests hold one open): a version of its own each time,
				// so nothing is served from a memo.
				vc.conns++
				return Version{conn: vc.conns, partial: true}, nil
			}
			return Version{}, fmt.Errorf("prepare data_version: %w", err)
		}
		vc.conn, vc.stmt = conn, stmt
		vc.conns++
	}
	v := Version{conn: vc.conns, partial: dialect == Postgres}
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

// isPgUndefinedTable says err is PostgreSQL's "relation does not exist".
func isPgUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}
