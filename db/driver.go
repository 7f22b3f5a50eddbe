package db

import (
	"context"
	"database/sql/driver"
	"strings"
	"sync/atomic"
)

// committed counts the writes this process's pool has finished: the
// commits of transactions, and statements that may write outside one. It is
// bumped after the write returns, so a reader that sees the new count also
// sees the write. Memo uses it to notice this process's own writes at once
// without asking SQLite anything (see Version).
type committed struct{ n atomic.Int64 }

// countingConnector wraps modernc's connector so every connection counts
// its writes.
type countingConnector struct {
	driver.Connector
	c *committed
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{inner: conn, c: cc.c}, nil
}

// mayWrite says whether a statement can change the database. Only a plain
// SELECT and a PRAGMA that assigns nothing are taken as reads: counting a
// read as a write costs a cache miss, the reverse would show stale data.
func mayWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return true
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT":
		return false
	case "PRAGMA":
		return strings.Contains(q, "=") || strings.Contains(q, "(")
	}
	return true
}

// countingConn passes everything to modernc's connection; it implements
// the optional interfaces database/sql looks for that modernc's has.
type countingConn struct {
	inner driver.Conn
	c     *committed
}

func (w *countingConn) Prepare(query string) (driver.Stmt, error) {
	return w.PrepareContext(context.Background(), query)
}

func (w *countingConn) Close() error { return w.inner.Close() }

func (w *countingConn) Begin() (driver.Tx, error) {
	return w.BeginTx(context.Background(), driver.TxOptions{})
}

func (w *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := w.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{inner: tx, c: w.c}, nil
}

func (w *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := w.inner.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{inner: st, c: w.c, writes: mayWrite(query)}, nil
}

func (w *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := w.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
	w.c.n.Add(1) // even on error: part of a multi-statement Exec may have run
	return res, err
}

func (w *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := w.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
	return countRows(rows, err, mayWrite(query), w.c)
}

// countRows counts a writing query (INSERT … RETURNING) when its rows are
// closed: outside a transaction, SQLite commits it only then.
func countRows(rows driver.Rows, err error, writes bool, c *committed) (driver.Rows, error) {
	if err != nil {
		if writes {
			c.n.Add(1)
		}
		return nil, err
	}
	if !writes {
		return rows, nil
	}
	return &countingRows{Rows: rows, c: c}, nil
}

type countingRows struct {
	driver.Rows
	c *committed
}

func (r *countingRows) Close() error {
	err := r.Rows.Close()
	r.c.n.Add(1)
	return err
}

func (w *countingConn) Ping(ctx context.Context) error { return w.inner.(driver.Pinger).Ping(ctx) }

func (w *countingConn) ResetSession(ctx context.Context) error {
	return w.inner.(driver.SessionResetter).ResetSession(ctx)
}

func (w *countingConn) IsValid() bool { return w.inner.(driver.Validator).IsValid() }

type countingTx struct {
	inner driver.Tx
	c     *committed
}

func (t countingTx) Commit() error {
	err := t.inner.Commit()
	t.c.n.Add(1)
	return err
}

func (t countingTx) Rollback() error { return t.inner.Rollback() }

type countingStmt struct {
	inner  driver.Stmt
	c      *committed
	writes bool
}

func (s *countingStmt) Close() error  { return s.inner.Close() }
func (s *countingStmt) NumInput() int { return s.inner.NumInput() }

func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	res, err := s.inner.Exec(args) //nolint:staticcheck // database/sql uses ExecContext; this is the interface's
	s.c.n.Add(1)
	return res, err
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	rows, err := s.inner.Query(args) //nolint:staticcheck // as Exec
	return countRows(rows, err, s.writes, s.c)
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := s.inner.(driver.StmtExecContext).ExecContext(ctx, args)
	s.c.n.Add(1)
	return res, err
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.inner.(driver.StmtQueryContext).QueryContext(ctx, args)
	return countRows(rows, err, s.writes, s.c)
}
