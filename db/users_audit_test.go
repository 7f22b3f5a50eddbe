package db_test

import (
	"context"
	"strings"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// TestAccountChangesLandWithTheirAuditEvent puts a fault between each
// account change and its audit event: the change must not land without
// its record, and lands with it once the fault is gone.
func TestAccountChangesLandWithTheirAuditEvent(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		event := func(action string) db.AuditEvent { return db.AuditEvent{User: "root", Action: action, Detail: "test"} }
		userEvent := func(action string) db.UserAudit {
			return func(db.User, db.User) db.AuditEvent { return event(action) }
		}
		tokenEvent := func(action string) func(db.Token) db.AuditEvent {
			return func(db.Token) db.AuditEvent { return event(action) }
		}
		tests := []struct {
			name   string
			action string
			prep   func(ctx context.Context, d *db.DB, bob db.User) // before the fault, unaudited
			change func(ctx context.Context, d *db.DB, bob db.User) error
		}{
			{name: "create user", action: "user.created", change: func(ctx context.Context, d *db.DB, _ db.User) error {
				_, err := d.InsertUser(ctx, db.User{Name: "carol", Role: "viewer", PasswordHash: "h", MustChangePassword: true},
					func(db.User) db.AuditEvent { return event("user.created") })
				return err
			}},
			{name: "change role", action: "user.role_changed", change: func(ctx context.Context, d *db.DB, bob db.User) error {
				_, _, err := d.SetRole(ctx, bob.ID, "viewer", userEvent("user.role_changed"))
				return err
			}},
			{name: "disable", action: "user.disabled", change: func(ctx context.Context, d *db.DB, bob db.User) error {
				_, err := d.SetDisabled(ctx, bob.ID, true, userEvent("user.disabled"))
				return err
			}},
			{name: "enable", action: "user.enabled",
				prep: func(ctx context.Context, d *db.DB, bob db.User) {
					if _, err := d.SetDisabled(ctx, bob.ID, true, nil); err != nil {
						t.Fatal(err)
					}
				},
				change: func(ctx context.Context, d *db.DB, bob db.User) error {
					_, err := d.SetDisabled(ctx, bob.ID, false, userEvent("user.enabled"))
					return err
				}},
			{name: "reset password", action: "user.password_reset", change: func(ctx context.Context, d *db.DB, bob db.User) error {
				_, err := d.SetPassword(ctx, bob.ID, "new hash", true, userEvent("user.password_reset"))
				return err
			}},
			{name: "create token", action: "token.created", change: func(ctx context.Context, d *db.DB, bob db.User) error {
				_, err := d.AddToken(ctx, db.Token{UserID: bob.ID, Name: "ci", Role: "viewer"}, hashOf("ci"), tokenEvent("token.created"))
				return err
			}},
			{name: "revoke token", action: "token.revoked",
				prep: func(ctx context.Context, d *db.DB, bob db.User) {
					if _, err := d.AddToken(ctx, db.Token{UserID: bob.ID, Name: "old"}, hashOf("old"), nil); err != nil {
						t.Fatal(err)
					}
				},
				change: func(ctx context.Context, d *db.DB, bob db.User) error {
					tokens, err := d.Tokens(ctx, bob.ID)
					if err != nil || len(tokens) != 1 {
						t.Fatalf("bob's tokens = %v, %v", tokens, err)
					}
					_, err = d.RevokeToken(ctx, tokens[0].ID, tokenEvent("token.revoked"))
					return err
				}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				d := open(t)
				if _, err := d.CreateUser(ctx, "root", "admin", "h", nil); err != nil {
					t.Fatal(err)
				}
				bob, err := d.CreateUser(ctx, "bob", "operator", "h", nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.prep != nil {
					tt.prep(ctx, d, bob)
				}
				before := dbtest.Accounts(t, d)
				dbtest.FailAudit(t, d)
				if err := tt.change(ctx, d, bob); err == nil || !strings.Contains(err.Error(), "fault injected") {
					t.Errorf("with the audit insert failing: error %v, want the injected fault", err)
				}
				if after := dbtest.Accounts(t, d); after != before {
					t.Fatalf("the change landed without its audit event:\nbefore\n%s\nafter\n%s", before, after)
				}
				dbtest.HealAudit(t, d)
				if err := tt.change(ctx, d, bob); err != nil {
					t.Fatalf("without the fault: %v", err)
				}
				if dbtest.Accounts(t, d) == before {
					t.Error("without the fault the change changed nothing: the test proves nothing")
				}
				if events, err := d.Audit(ctx, 1, 0); err != nil || len(events) != 1 || events[0].Action != tt.action {
					t.Errorf("newest audit event = %+v, %v; want %s", events, err, tt.action)
				}
			})
		}
	})
}

// TestUserAuditSeesTheChange: the event is made from the user before and
// after the change, and a role a user has already records nothing.
func TestUserAuditSeesTheChange(t *testing.T) {
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		bob, err := d.CreateUser(ctx, "bob", "operator", "h", nil)
		if err != nil {
			t.Fatal(err)
		}
		detail := func(b, a db.User) db.AuditEvent {
			return db.AuditEvent{Action: "user.role_changed", Detail: b.Role + " → " + a.Role}
		}
		if _, old, err := d.SetRole(ctx, bob.ID, "approver", detail); err != nil || old != "operator" {
			t.Fatalf("SetRole = %q, %v; want old role operator", old, err)
		}
		if _, old, err := d.SetRole(ctx, bob.ID, "approver", detail); err != nil || old != "approver" {
			t.Fatalf("SetRole again = %q, %v; want old role approver", old, err)
		}
		events, err := d.Audit(ctx, 10, 0)
		if err != nil || len(events) != 1 || events[0].Detail != "operator → approver" {
			t.Errorf("audit = %+v, %v; want one event operator → approver", events, err)
		}
	})
}
