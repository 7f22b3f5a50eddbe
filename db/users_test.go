package db_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	if _, err := d.CreateUser(ctx, "taken", db.RoleViewer, "h"); err != nil {
		t.Fatalf("seed user: %v", err)
	}
	tests := []struct {
		name     string
		user     string
		role     string
		wantErr  bool
		conflict bool
	}{
		{name: "viewer", user: "v", role: db.RoleViewer},
		{name: "operator", user: "o", role: db.RoleOperator},
		{name: "approver", user: "p", role: db.RoleApprover},
		{name: "admin", user: "a", role: db.RoleAdmin},
		{name: "taken name is a conflict", user: "taken", role: db.RoleAdmin, wantErr: true, conflict: true},
		{name: "unknown role is refused", user: "r", role: "root", wantErr: true},
		{name: "empty role is refused", user: "e", role: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Millisecond)
			u, err := d.CreateUser(ctx, tt.user, tt.role, "hash-"+tt.user)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("CreateUser(%q, %q) succeeded, want error", tt.user, tt.role)
				}
				if got := errors.Is(err, db.ErrConflict); got != tt.conflict {
					t.Errorf("errors.Is(%v, ErrConflict) = %v, want %v", err, got, tt.conflict)
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			if u.ID == 0 || u.CreatedAt.Before(before) || u.CreatedAt.Location() != time.UTC {
				t.Errorf("created user %+v: want an id and a UTC creation time", u)
			}
			byName, err := d.UserByName(ctx, tt.user)
			if err != nil || byName != u {
				t.Errorf("UserByName = %+v, %v; want %+v", byName, err, u)
			}
			byID, err := d.UserByID(ctx, u.ID)
			if err != nil || byID != u {
				t.Errorf("UserByID = %+v, %v; want %+v", byID, err, u)
			}
		})
	}
}

// TestRoleCheckedByDatabase goes around CreateUser: the table's own CHECK
// (rebuilt by migration 3 to allow approver) must agree with ValidRole.
func TestRoleCheckedByDatabase(t *testing.T) {
	d := dbtest.Open(t)
	tests := []struct {
		role string
		ok   bool
	}{
		{db.RoleViewer, true}, {db.RoleOperator, true}, {db.RoleApprover, true}, {db.RoleAdmin, true},
		{"root", false}, {"", false},
	}
	for _, tt := range tests {
		t.Run("role "+strconv.Quote(tt.role), func(t *testing.T) {
			_, err := d.SQL().Exec(`INSERT INTO users (name, role, password_hash, created_at)
				VALUES (?, ?, '', 0)`, "raw-"+tt.role, tt.role)
			if (err == nil) != tt.ok {
				t.Errorf("raw insert of role %q: error %v, want ok = %v", tt.role, err, tt.ok)
			}
			if db.ValidRole(tt.role) != tt.ok {
				t.Errorf("ValidRole(%q) = %v, want %v", tt.role, !tt.ok, tt.ok)
			}
		})
	}
}

func TestUserNotFound(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	if _, err := d.UserByName(ctx, "nobody"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("UserByName(nobody) error = %v, want ErrNotFound", err)
	}
	if _, err := d.UserByID(ctx, 42); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("UserByID(42) error = %v, want ErrNotFound", err)
	}
}

func TestUsersAndCount(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	if n, err := d.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on empty = %d, %v; want 0", n, err)
	}
	for _, name := range []string{"carol", "alice", "bob"} {
		if _, err := d.CreateUser(ctx, name, db.RoleViewer, "h"); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	if n, err := d.CountUsers(ctx); err != nil || n != 3 {
		t.Errorf("CountUsers = %d, %v; want 3", n, err)
	}
	users, err := d.Users(ctx)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	if got, want := names, []string{"alice", "bob", "carol"}; !equal(got, want) {
		t.Errorf("Users names = %v, want %v (sorted by name)", got, want)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
