// Package pgtest gives tests PostgreSQL databases: a fresh one per test
// in the cluster PORTPANEL_TEST_PG names (test.sh starts a throwaway one),
// and throwaway clusters of their own for tests that stop the server.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Env names the variable holding the URL of the test cluster, as a
// superuser of it (CREATE DATABASE), e.g.
// postgres:///postgres?host=/tmp/pg/sock&user=postgres.
const Env = "PORTPANEL_TEST_PG"

// Skip skips t when no test cluster is configured, saying why (test.sh
// puts why its cluster did not start in PORTPANEL_TEST_PG_ERROR); under CI
// (CI=true, or test.sh's CI=1), the missing cluster fails t instead, so a
// run that tested one store only cannot pass.
func Skip(t testing.TB) {
	t.Helper()
	if os.Getenv(Env) != "" {
		return
	}
	why := "PostgreSQL half skipped: " + Env + " is not set (test.sh starts a throwaway cluster and sets it)"
	if e := os.Getenv(Env + "_ERROR"); e != "" {
		why += ": " + e
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal(why + "; under CI a skip is a failure")
	}
	t.Skip(why)
}

// Database returns the URL of a new, empty database for t in the test
// cluster, removed when t ends. It skips t as Skip does when there is no
// cluster.
//
// The database is a schema of its own in the cluster's database, which
// the URL makes the connection's only one (search_path): to portpanel,
// which names no schema, that is a fresh empty database. A schema because
// CREATE DATABASE takes over a second (it copies template1), which times
// every db test twice made minutes.
func Database(t testing.TB) string {
	t.Helper()
	Skip(t)
	admin := os.Getenv(Env)
	name := "pp_test_" + strings.ToLower(rand.Text()[:16])
	if err := execSQL(admin, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create test schema in %s: %v", Env, err)
	}
	t.Cleanup(func() {
		if err := execSQL(admin, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// execSQL runs one statement on the database u names, on a connection of
// its own (CREATE and DROP DATABASE refuse to run in a transaction).
func execSQL(u, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
