package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3/lock"
)

// PostgreSQL is reached through pgx v5's database/sql driver (stdlib), not
// its native API, so every method of DB runs the same code, the same
// query text ($N placeholders) and the same scans on both stores; the
// dialect shows only in Open, the migrations and a few lines marked
// "PostgreSQL:". pgx because it is the maintained PostgreSQL driver for Go
// (lib/pq is in maintenance mode) and goose and scs support it.

// IsPostgresURL says whether dsn names a PostgreSQL database rather than
// a SQLite file: a postgres:// or postgresql:// URL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// pgMaxConns bounds the PostgreSQL pool. Unlike SQLite, a query runs in
// the server, so a connection waiting on it costs the process little;
// the bound keeps a busy panel from taking the server's max_connections
// (100 by default) from other replicas.
const pgMaxConns = 16

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	sqlDB, err := postgresPool(dsn)
	if err != nil {
		return nil, err
	}
	d := &DB{sql: sqlDB, dialect: Postgres}
	if err := d.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database %s: %w", Describe(dsn), err)
	}
	return d, nil
}

// postgresPool opens (lazily) the pool of connections to dsn.
func postgresPool(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("open database: the PostgreSQL URL does not parse")
	}
	// A connection lost to a server restart is noticed by stdlib's ping
	// of a connection idle for over a second (ResetSession), and replaced.
	sqlDB := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(registerBoolInts))
	sqlDB.SetMaxOpenConns(pgMaxConns)
	sqlDB.SetMaxIdleConns(pgMaxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return sqlDB, nil
}

// Describe names the database dsn opens for logs and messages: a SQLite
// path as it is, a PostgreSQL URL without its password or other options.
func Describe(dsn string) string {
	if !IsPostgresURL(dsn) {
		return dsn
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "postgres (URL does not parse)"
	}
	return fmt.Sprintf("postgres database %q on %s as %q", cfg.Database, cfg.Host, cfg.User)
}

// pgMigrationLocker makes goose take a PostgreSQL advisory lock while it
// migrates, so two replicas starting at once do not both apply a version.
// The lock is the schema's, not goose's one id for every database:
// portpanel's tables live in the connection's schema, and installations
// (or tests) in other schemas of the same database have nothing to wait
// for. Retried every second, not goose's five, for at most five minutes.
func pgMigrationLocker(ctx context.Context, sqlDB *sql.DB) (lock.SessionLocker, error) {
	var schema string
	if err := sqlDB.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("read the current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("portpanel migrations\x00" + schema))
	return lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
}

// registerBoolInts lets a Go bool be the argument for an integer column:
// portpanel stores booleans as 0/1 integers on both stores (SQLite has no
// boolean type), and modernc's driver writes a bool as 0 or 1, while pgx
// refuses to encode one into an integer. Reading needs nothing: database/sql
// converts the integer into a *bool destination itself.
func registerBoolInts(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	for _, t := range []*pgtype.Type{
		{Name: "int2", OID: pgtype.Int2OID, Codec: boolInts{pgtype.Int2Codec{}}},
		{Name: "int4", OID: pgtype.Int4OID, Codec: boolInts{pgtype.Int4Codec{}}},
		{Name: "int8", OID: pgtype.Int8OID, Codec: boolInts{pgtype.Int8Codec{}}},
	} {
		m.RegisterType(t)
	}
	return nil
}

// boolInts is an integer codec that also encodes a bool, as 1 or 0.
type boolInts struct{ pgtype.Codec }

func (c boolInts) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(bool); ok {
		if next := c.Codec.PlanEncode(m, oid, format, int64(0)); next != nil {
			return boolAsInt{next}
		}
		return nil
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

type boolAsInt struct{ next pgtype.EncodePlan }

func (p boolAsInt) Encode(value any, buf []byte) ([]byte, error) {
	var n int64
	if value.(bool) {
		n = 1
	}
	return p.next.Encode(n, buf)
}

// pgUniqueViolation is PostgreSQL's SQLSTATE for a unique constraint (a
// primary key's included) refusing a row.
const pgUniqueViolation = "23505"

func isPgUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

// lockKey names a transaction-scoped PostgreSQL advisory lock (serialize).
// The values spell "pp" and what they guard in ASCII, unlikely to collide
// with another application's locks in the same database.
type lockKey int64

const (
	auditLock lockKey = 0x7070_6175_6469_74 // "ppaudit": appends to the audit log
	usersLock lockKey = 0x7070_7573_6572_73 // "ppusers": the last-admin rule
	usageLock lockKey = 0x7070_7573_6167_65 // "ppusage": folding usage into hours
)

// serialize makes tx the only transaction holding key until it ends, for
// the transactions that read something and then write what depends on it.
// SQLite needs nothing: every write transaction there holds the database's
// write lock from BEGIN (_txlock=immediate). PostgreSQL runs them side by
// side under READ COMMITTED, so two could read the same state and both act
// on it. A statement begun after the lock is granted sees everything the
// previous holder committed (it released the lock only once committed).
// Taking a key again in the same transaction is harmless (the lock counts).
func (d *DB) serialize(ctx context.Context, tx *sql.Tx, key lockKey) error {
	if d.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(key)); err != nil {
		return fmt.Errorf("take advisory lock %x: %w", int64(key), err)
	}
	return nil
}

// lockAudit makes tx the only transaction appending to the audit log until
// it ends: two appends side by side would both read the same chain head
// and fork the chain (or, as the id is chosen from it, one would fail on
// the primary key).
func (d *DB) lockAudit(ctx context.Context, tx *sql.Tx) error {
	if err := d.serialize(ctx, tx, auditLock); err != nil {
		return fmt.Errorf("lock the audit log: %w", err)
	}
	return nil
}
