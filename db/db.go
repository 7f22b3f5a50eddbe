package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is portpanel's database. Its methods are safe for concurrent use.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	version versionConn
	memo    memos
	chain   auditChain // what of the audit log is verified (audit_verify.go)
	// tightened are the files Open made private (files.go).
	tightened []Tightened
	notify    Notifier // which webhook events an audit event raises (outbox.go)
}

// dsnOptions are set on every pooled connection. In a DSN, not through
// Exec("PRAGMA ..."), because an Exec reaches only one connection of the
// pool.
//   - busy_timeout: modernc's default is 0, so a second writer would fail at once.
//   - WAL: readers never block the writer, nor it them.
//   - synchronous(FULL): under WAL, NORMAL may lose the last commits on power
//     loss; the audit log must not.
//   - _txlock=immediate: BEGIN takes the write lock, so a transaction that
//     reads then writes waits for the lock (busy_timeout) instead of failing
//     with SQLITE_BUSY when it upgrades, which busy_timeout cannot retry.
//   - _time_format=sqlite: time.Time arguments are written in a form SQLite's
//     date functions read (scs binds expiry into julianday()).
const dsnOptions = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)" +
	"&_txlock=immediate&_time_format=sqlite"

// maxConns bounds the connection pool (one of them is kept for Version).
// Each connection keeps its own page cache (up to 2 MB), and SQLite does
// the work of a query on the caller's thread, so connections beyond a few
// per CPU add memory, not speed: under bench/run.sh's 200-client mix, 16
// peaked at 63 MB resident and 8 at 58 MB, serving as many requests.
const maxConns = 8

// Open opens the database dsn names: a postgres:// or postgresql:// URL
// opens PostgreSQL (openPostgres), anything else is the path of a SQLite
// file. Either way pending migrations are applied first.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresURL(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// openSQLite opens the SQLite database at path, creating the file (0600) and its
// missing directories (0700) if needed, tightening the mode of database
// files others may read (see Tightened), and applies pending migrations.
//
// One pool serves reads and writes. WAL lets readers run beside the single
// writer, and with _txlock=immediate plus busy_timeout concurrent writers
// queue inside SQLite rather than fail. A separate one-connection write pool
// would queue them in Go instead, but SQL() must give scs a single handle
// that both reads and writes sessions, and the panel writes a few rows a
// minute, so the second pool would buy nothing but two handles to get wrong.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	tightened, err := prepareFiles(path)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := sql.Open("sqlite", "file:"+escapePath(path)+"?"+dsnOptions)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// A bounded pool that stays open: database/sql keeps only 2 idle
	// connections by default, so under load connections were opened and
	// closed by the hundred (each parsing the schema, each with a cold
	// page cache), and an unbounded pool grew a page cache per
	// connection. Requests beyond maxConns wait in Go; no method holds a
	// connection while asking for another.
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	d := &DB{sql: sqlDB, dialect: SQLite, tightened: tightened}
	if err := d.setUp(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return d, nil
}

func (d *DB) setUp(ctx context.Context) error {
	// journal_mode(WAL) is silently ignored where WAL cannot work (some
	// network filesystems); the locking reasoning above depends on it.
	var mode string
	if err := d.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	return d.migrate(ctx)
}

// migrate applies the pending migrations.
func (d *DB) migrate(ctx context.Context) error {
	p, err := newMigrator(ctx, d.sql, d.dialect)
	if err != nil {
		return err
	}
	// Not p.Close(): that would close d.sql.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// newMigrator returns a goose Provider for dialect's embedded SQL
// migrations and, on SQLite, the Go one (rolesMigration; PostgreSQL's
// version 3 is SQL): no global goose state, and no output unless
// WithVerbose, which we leave off.
func newMigrator(ctx context.Context, sqlDB *sql.DB, dialect Dialect) (*goose.Provider, error) {
	fsys, err := migrationsFor(dialect)
	if err != nil {
		return nil, err
	}
	gooseDialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		locker, err := pgMigrationLocker(ctx, sqlDB)
		if err != nil {
			return nil, fmt.Errorf("set up migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else {
		opts = append(opts, goose.WithGoMigrations(rolesMigration))
	}
	p, err := goose.NewProvider(gooseDialect, sqlDB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("set up migrations: %w", err)
	}
	return p, nil
}

// Dialect is the engine d stores its data in.
func (d *DB) Dialect() Dialect { return d.dialect }

// Tightened lists the database files whose mode Open narrowed because
// group or others had access. db does not log; the caller says so.
func (d *DB) Tightened() []Tightened { return d.tightened }

// Close closes the database.
func (d *DB) Close() error {
	d.version.close()
	return d.sql.Close()
}

// SQL returns the underlying handle, for tests and tools that need raw
// SQL (dbtest's fault injection, db copy). Other packages should use DB's
// methods.
func (d *DB) SQL() *sql.DB { return d.sql }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// escapePath makes a file path safe inside a "file:" URI, where SQLite
// percent-decodes the path and '?' and '#' would end it.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Times are stored as INTEGER unix milliseconds, UTC.
func toMS(t time.Time) int64 { return t.UnixMilli() }

func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// now is the current time at the precision stored, so what a method
// returns equals what a later read returns.
func now() time.Time { return fromMS(time.Now().UnixMilli()) }

// orNow truncates t to the stored precision, or returns now() if t is zero.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return fromMS(toMS(t))
}

func isUniqueViolation(err error) bool {
	if isPgUniqueViolation(err) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
		se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Page sizes for keyset listings.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// clampLimit turns a caller's page size into one that is positive and
// bounded, so a handler passing 0 or a user's huge number stays safe.
func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return defaultLimit
	case limit > maxLimit:
		return maxLimit
	}
	return limit
}

// beforeOrMax turns a keyset cursor of 0 ("from the newest") into a value
// above every id, so one query serves both cases.
func beforeOrMax(beforeID int64) int64 {
	if beforeID <= 0 {
		return 1<<63 - 1
	}
	return beforeID
}

// param is the placeholder of the n-th argument of a query: "$n". Every
// query in db numbers its arguments, as PostgreSQL requires; modernc's
// SQLite driver binds "$n" to the n-th argument too, so one text serves
// both (TestNumberedParams).
func param(n int) string { return "$" + strconv.Itoa(n) }

// params is the placeholders of n arguments from the from-th on, comma
// separated: "$1, $2, $3".
func params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(param(from + i))
	}
	return b.String()
}
