package db_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// Every query in db numbers its arguments ($1, $2, ...), one text for both
// stores: modernc's SQLite driver must bind $N to the N-th argument, in
// any order and more than once, as PostgreSQL does.
func TestNumberedParams(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var a, b, c string
		err := d.SQL().QueryRow(`SELECT CAST($2 AS TEXT), CAST($1 AS TEXT), CAST($1 AS TEXT)`, "one", "two").Scan(&a, &b, &c)
		if err != nil {
			t.Fatal(err)
		}
		if a != "two" || b != "one" || c != "one" {
			t.Errorf("SELECT $2, $1, $1 with (one, two) = %s, %s, %s; want two, one, one", a, b, c)
		}
	})
}

// Both dialects' migrations are one version sequence, and every table has
// the same columns on both stores, so a version means the same schema
// everywhere and db copy can move every table column by column.
func TestSchemasMatch(t *testing.T) {
	lite, pg := dbtest.Open(t), dbtest.OpenPostgres(t)
	for _, d := range []*db.DB{lite, pg} {
		if d.Dialect() != map[*db.DB]db.Dialect{lite: db.SQLite, pg: db.Postgres}[d] {
			t.Errorf("Dialect() = %s", d.Dialect())
		}
	}
	ctx := context.Background()
	lv, err := db.MigrationVersions(db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pv, err := db.MigrationVersions(db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lv, pv) {
		t.Errorf("migration versions differ:\nsqlite   %v\npostgres %v", lv, pv)
	}
	ls, err := lite.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pg.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ls) != fmt.Sprint(ps) {
		t.Errorf("schemas differ:\nsqlite   %v\npostgres %v", ls, ps)
	}
	if len(ls) < 10 {
		t.Errorf("only %d tables listed: %v", len(ls), ls)
	}
}

// Two processes appending to one audit log at the same moment must leave
// one chain: no two events with one prev_hash (a fork), no id skipped (a
// gap). Two handles stand for the two processes: each has its own pool,
// so nothing in Go serializes them; only the store does.
func TestAuditConcurrentAppendsFromTwoHandles(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dsn string) {
		a, b := dbtest.OpenDSN(t, dsn), dbtest.OpenDSN(t, dsn)
		const perWriter, writers = 25, 4
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers*perWriter)
		for w := range 2 * writers {
			d := []*db.DB{a, b}[w%2]
			wg.Go(func() {
				for i := range perWriter {
					_, err := d.AppendAudit(context.Background(), db.AuditEvent{
						Action: "test.append", Detail: fmt.Sprintf("writer %d event %d", w, i)})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("append: %v", err)
		}
		for _, d := range []*db.DB{a, b} {
			n, err := d.VerifyAudit(context.Background())
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if n != 2*writers*perWriter {
				t.Errorf("verified %d events, want %d", n, 2*writers*perWriter)
			}
		}
		events, err := a.Audit(context.Background(), 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range events {
			if want := int64(len(events) - i); e.ID != want {
				t.Fatalf("event %d has id %d, want %d (ids 1..%d, no gap)", i, e.ID, want, len(events))
			}
		}
	})
}
