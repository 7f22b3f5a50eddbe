package dbtest

import (
	"fmt"
	"strings"
	"testing"

	"portpanel/db"
)

// FailAudit makes every audit insert into d fail until HealAudit: a fault
// between a change and its audit event, for tests showing that neither
// lands alone. It is a trigger, so it holds for every connection and for
// other processes (the CLI) opening the same file.
func FailAudit(t testing.TB, d *db.DB) {
	t.Helper()
	failInserts(t, d, "audit_events", "test_audit_fault", "audit insert failed (fault injected by the test)")
}

// HealAudit removes FailAudit's fault.
func HealAudit(t testing.TB, d *db.DB) {
	t.Helper()
	drop := `DROP TRIGGER test_audit_fault`
	if d.Dialect() == db.Postgres {
		drop += ` ON audit_events`
	}
	if _, err := d.SQL().Exec(drop); err != nil {
		t.Fatalf("remove audit fault: %v", err)
	}
}

// failInserts installs a trigger named name refusing every insert into
// table with message, in d's dialect.
func failInserts(t testing.TB, d *db.DB, table, name, message string) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table +
		` BEGIN SELECT RAISE(ABORT, '` + message + `'); END`}
	if d.Dialect() == db.Postgres {
		stmts = []string{
			`CREATE OR REPLACE FUNCTION ` + name + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION '` + message + `'; END $$`,
			`CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION ` + name + `()`,
		}
	}
	for _, s := range stmts {
		if _, err := d.SQL().Exec(s); err != nil {
			t.Fatalf("install fault %s: %v", name, err)
		}
	}
}

// Accounts dumps everything an account change touches (users, tokens, the
// audit log's length), read past any cache, so a test can compare before
// and after.
func Accounts(t testing.TB, d *db.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, name, role, password_hash, disabled, must_change_password, password_changed_at, session_epoch FROM users ORDER BY id`,
		`SELECT id, user_id, name, role, hash, expires_at FROM tokens ORDER BY id`,
		`SELECT COUNT(*), COALESCE(MAX(id), 0) FROM audit_events`,
	} {
		rows, err := d.SQL().Query(q)
		if err != nil {
			t.Fatalf("dump accounts: %v", err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump accounts: %v", err)
			}
			for i, v := range vals {
				if h, ok := v.([]byte); ok {
					vals[i] = fmt.Sprintf("%X", h) // the token hash, readable
				}
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump accounts: %v", err)
		}
		rows.Close()
	}
	return b.String()
}

// FailDeliveries makes every webhook delivery insert into d fail: a fault
// between an event and its outbox row, for tests showing that neither
// lands alone.
func FailDeliveries(t testing.TB, d *db.DB) {
	t.Helper()
	failInserts(t, d, "webhook_deliveries", "test_delivery_fault", "delivery insert failed (fault injected by the test)")
}

// DropAuditTriggers removes the triggers that keep the audit log
// append-only, as anyone with write access to the store could, so a test
// can tamper with the log and show that verification notices.
func DropAuditTriggers(t testing.TB, d *db.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER IF EXISTS audit_events_no_update`, `DROP TRIGGER IF EXISTS audit_events_no_delete`}
	if d.Dialect() == db.Postgres {
		stmts = []string{`DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events`,
			`DROP TRIGGER IF EXISTS audit_events_no_delete ON audit_events`}
	}
	for _, s := range stmts {
		if _, err := d.SQL().Exec(s); err != nil {
			t.Fatalf("drop audit triggers: %v", err)
		}
	}
}
