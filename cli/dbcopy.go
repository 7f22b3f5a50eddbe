package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"portpanel/db"
)

// dbCommand is "db copy": moving a panel from its SQLite file to
// PostgreSQL (issue 19), without losing a row or the audit chain.
func dbCommand() *cobra.Command {
	return adminGroup("db", "move the database to another store", "copy",
		adminCommand("copy --to postgres://... [--db PATH]", "copy every table into an empty PostgreSQL database, then verify its audit chain",
			"  systemctl stop portpanel\n  portpanel db copy --to 'postgres:///portpanel?host=/run/postgresql'",
			adminFlagSet("db copy"), dbCopy))
}

func dbCopy(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, o := adminFlags("db copy", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return commandUsage{fmt.Sprintf("db copy takes no arguments, got %q", fs.Args())}
	}
	switch {
	case *o.to == "":
		return commandUsage{"db copy needs --to, the database to copy into (a postgres:// URL)"}
	case *o.to == *o.db:
		return commandUsage{"db copy: --to names the database --db already is"}
	}
	from, err := db.Open(ctx, *o.db)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := db.Open(ctx, *o.to)
	if err != nil {
		return err
	}
	defer to.Close()
	r, err := db.Copy(ctx, from, to)
	if errors.Is(err, db.ErrTargetNotEmpty) {
		return fmt.Errorf("%w; copy into a new, empty database", err)
	}
	if err != nil {
		return err
	}
	for _, t := range r.Tables {
		fmt.Fprintf(stdout, "%-20s %d rows\n", t.Name, t.Rows)
	}
	fmt.Fprintf(stdout, "copied %s into %s; audit log verified there: %d events, hash chain intact\n",
		db.Describe(*o.db), db.Describe(*o.to), r.Audit)
	return nil
}
