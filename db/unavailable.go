package db

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable says whether err means the store could not be reached
// (PostgreSQL stopped, restarting or refusing connections, the connection
// lost), as opposed to a query that failed: the request may work again
// later, unchanged. The web layer answers 503 for it, and database/sql
// replaces the lost connections by itself once the server is back, so
// portpanel outlives a PostgreSQL restart without being restarted.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P05: the server is
		// shutting down, starting up or idle-disconnected us; 53300: too
		// many connections.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
