package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"syscall"

	"portpanel/db"
	"portpanel/fleet"
)

// errReplicaOnSQLite is what a second serve on one SQLite file hears.
var errReplicaOnSQLite = errors.New("replicas need PostgreSQL: give every serve --db postgres://...; a SQLite file is served by one portpanel serve at a time")

// lockSQLite makes this serve the only one on the SQLite file at path, for
// as long as the process lives, and refuses plainly when another holds it:
// two control planes on one file would each take the other's work for
// its own (crash recovery at start, claims released at start), and sharing
// a database is what replicas on PostgreSQL are for. The other commands
// (users, tokens, enroll) open the file beside a running serve, as before.
//
// flock(2) on a file beside the database, not on the database: SQLite takes
// fcntl locks on it, which close() drops for the whole process. The lock
// goes with the process, however it ends; the file stays, holding the pid
// of the last holder for the message.
func lockSQLite(path string) (release func(), err error) {
	name := path + ".serve-lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another portpanel serve"
			if b, rerr := os.ReadFile(name); rerr == nil {
				if pid, perr := strconv.Atoi(string(bytes.TrimSpace(b))); perr == nil {
					who = fmt.Sprintf("%s (pid %d)", who, pid)
				}
			}
			return nil, fmt.Errorf("%s is serving %s: %w", who, path, errReplicaOnSQLite)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	// The pid is for the message above; a failure to write it costs only that.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// wakeHub is the fleet's Hub for d: on PostgreSQL, where other replicas
// may serve the same agents, one that also wakes theirs (NOTIFY, and a
// recheck for what NOTIFY lost), with run to start beside the other
// background work; on SQLite, one process, the in-process hub alone.
func wakeHub(d *db.DB, log *slog.Logger) (hub fleet.Hub, run func(context.Context)) {
	if d.Dialect() != db.Postgres {
		return fleet.NewLocalHub(), func(context.Context) {}
	}
	h := &fleet.ReplicaHub{DB: d, Listen: true, Report: func(err error) {
		log.Warn("wake-ups from the other replicas come by the recheck until this is fixed", "err", err)
	}}
	return h, h.Run
}
