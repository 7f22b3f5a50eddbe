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
	if _, err := d.SQL().Exec(`CREATE TRIGGER test_audit_fault BEFORE INSERT ON audit_events
		BEGIN SELECT RAISE(ABORT, 'audit insert failed (fault injected by the test)'); END`); err != nil {
		t.Fatalf("install audit fault: %v", err)
	}
}

// HealAudit removes FailAudit's fault.
func HealAudit(t testing.TB, d *db.DB) {
	t.Helper()
	if _, err := d.SQL().Exec(`DROP TRIGGER test_audit_fault`); err != nil {
		t.Fatalf("remove audit fault: %v", err)
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
		`SELECT id, user_id, name, role, hex(hash), expires_at FROM tokens ORDER BY id`,
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
	if _, err := d.SQL().Exec(`CREATE TRIGGER test_delivery_fault BEFORE INSERT ON webhook_deliveries
		BEGIN SELECT RAISE(ABORT, 'delivery insert failed (fault injected by the test)'); END`); err != nil {
		t.Fatalf("install delivery fault: %v", err)
	}
}
