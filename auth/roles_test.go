package auth_test

import (
	"errors"
	"slices"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestRolesAreOrderedLeastFirst(t *testing.T) {
	for i, low := range auth.Roles {
		for j, high := range auth.Roles {
			if got, want := auth.Allows(high, low), j >= i; got != want {
				t.Errorf("Allows(%q, %q) = %v, want %v", high, low, got, want)
			}
		}
	}
	if !slices.Equal(auth.Roles, []string{"viewer", "operator", "approver", "admin"}) {
		t.Errorf("Roles = %v; a new role needs a migration of the users table's CHECK", auth.Roles)
	}
}

func TestMayApprove(t *testing.T) {
	for role, want := range map[string]bool{"viewer": false, "operator": false, "approver": true, "admin": true, "": false, "root": false} {
		if got := auth.MayApprove(role); got != want {
			t.Errorf("MayApprove(%q) = %v, want %v", role, got, want)
		}
	}
}

// TestRolesAgreeWithDatabase holds db's knowledge of roles to auth's: db
// imports nothing above it, so the schema's CHECK and the last-admin rule
// name the roles themselves.
func TestRolesAgreeWithDatabase(t *testing.T) {
	ctx := t.Context()
	d := dbtest.Open(t)
	for _, role := range append(slices.Clone(auth.Roles), "root", "") {
		_, err := d.CreateUser(ctx, "u-"+role, role, "h", nil)
		if (err == nil) != auth.ValidRole(role) {
			t.Errorf("database took role %q: %v; auth.ValidRole says %v", role, err, auth.ValidRole(role))
		}
	}
	// u-admin is the only admin: db must know auth's admin as the role
	// it keeps one enabled holder of.
	admin, err := d.UserByName(ctx, "u-"+auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.SetRole(ctx, admin.ID, auth.RoleApprover, nil); !errors.Is(err, db.ErrLastAdmin) {
		t.Errorf("demoting the only %s: error %v, want ErrLastAdmin", auth.RoleAdmin, err)
	}
}
