package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest/pgtest"
)

// portpanel db copy --to moves a SQLite panel into an empty PostgreSQL
// database, says what it moved and that the chain verifies there, and
// refuses a target that has data.
func TestDBCopyCommand(t *testing.T) {
	ctx := context.Background()
	path, target := filepath.Join(t.TempDir(), "pp.db"), pgtest.Database(t)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(ctx, "alice", "admin", "h", func(u db.User) db.AuditEvent {
		return db.AuditEvent{Action: "user.created", Detail: u.Name}
	}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	var out, errOut bytes.Buffer
	if err := dbCopy(ctx, []string{"--db", path, "--to", target}, nil, &out, &errOut); err != nil {
		t.Fatalf("db copy: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"users                1 rows", "audit_events         1 rows",
		"audit log verified there: 1 events, hash chain intact", `postgres database "postgres"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("db copy printed\n%s\nwant it to say %q", out.String(), want)
		}
	}
	moved, err := db.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	if u, err := moved.UserByName(ctx, "alice"); err != nil || u.Role != "admin" {
		t.Errorf("alice on the new store: %+v, %v", u, err)
	}
	err = dbCopy(ctx, []string{"--db", path, "--to", target}, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second copy into it: %v, want a refusal saying it is not empty", err)
	}
	if err := dbCopy(ctx, []string{"--db", path}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "needs --to") {
		t.Errorf("db copy without --to: %v", err)
	}
}
