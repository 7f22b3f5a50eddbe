package db_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := d.CreateUser(ctx, "taken", "viewer", "h", nil); err != nil {
			t.Fatalf("seed user: %v", err)
		}
		tests := []struct {
			name     string
			user     string
			role     string
			wantErr  bool
			conflict bool
		}{
			{name: "viewer", user: "v", role: "viewer"},
			{name: "operator", user: "o", role: "operator"},
			{name: "approver", user: "p", role: "approver"},
			{name: "admin", user: "a", role: "admin"},
			{name: "taken name is a conflict", user: "taken", role: "admin", wantErr: true, conflict: true},
			{name: "unknown role is refused", user: "r", role: "root", wantErr: true},
			{name: "empty role is refused", user: "e", role: "", wantErr: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := time.Now().Add(-time.Millisecond)
				u, err := d.CreateUser(ctx, tt.user, tt.role, "hash-"+tt.user, nil)
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
	})
}

// TestRoleCheckedByDatabase goes around CreateUser: the table's own CHECK
// (rebuilt by migration 3 to allow approver) refuses a role auth does not
// know, whichever caller forgot to check (auth's TestRolesAgreeWithDatabase
// checks the list against auth.Roles).
func TestRoleCheckedByDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		tests := []struct {
			role string
			ok   bool
		}{
			{"viewer", true}, {"operator", true}, {"approver", true}, {"admin", true},
			{"root", false}, {"", false},
		}
		for _, tt := range tests {
			t.Run("role "+strconv.Quote(tt.role), func(t *testing.T) {
				_, err := d.SQL().Exec(`INSERT INTO users (name, role, password_hash, created_at)
				VALUES ($1, $2, '', 0)`, "raw-"+tt.role, tt.role)
				if (err == nil) != tt.ok {
					t.Errorf("raw insert of role %q: error %v, want ok = %v", tt.role, err, tt.ok)
				}
			})
		}
	})
}

func TestUserNotFound(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := d.UserByName(ctx, "nobody"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("UserByName(nobody) error = %v, want ErrNotFound", err)
		}
		if _, err := d.UserByID(ctx, 42); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("UserByID(42) error = %v, want ErrNotFound", err)
		}
	})
}

func TestUsersAndCount(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if n, err := d.CountUsers(ctx); err != nil || n != 0 {
			t.Fatalf("CountUsers on empty = %d, %v; want 0", n, err)
		}
		for _, name := range []string{"carol", "alice", "bob"} {
			if _, err := d.CreateUser(ctx, name, "viewer", "h", nil); err != nil {
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
	})
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

func TestInsertUserRoundTrip(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		u, err := d.InsertUser(ctx, db.User{Name: "erin", Role: "operator", PasswordHash: "h", MustChangePassword: true, Disabled: true}, nil)
		if err != nil {
			t.Fatalf("InsertUser: %v", err)
		}
		if !u.MustChangePassword || !u.Disabled || u.SessionEpoch != 0 || !u.PasswordChangedAt.Equal(u.CreatedAt) {
			t.Errorf("inserted %+v; want must change, disabled, epoch 0, password changed at creation", u)
		}
		got, err := d.UserByName(ctx, "erin")
		if err != nil || got != u {
			t.Errorf("UserByName = %+v, %v; want %+v", got, err, u)
		}
		list, err := d.Users(ctx)
		if err != nil || len(list) != 1 || list[0] != u {
			t.Errorf("Users = %+v, %v; want [%+v]", list, err, u)
		}
	})
}

func TestSetPasswordEndsSessions(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		u, _ := d.InsertUser(ctx, db.User{Name: "fay", Role: "viewer", PasswordHash: "old", MustChangePassword: true}, nil)
		for i, mustChange := range []bool{false, true} {
			before := time.Now().Add(-time.Millisecond)
			got, err := d.SetPassword(ctx, u.ID, "new", mustChange, nil)
			if err != nil {
				t.Fatalf("SetPassword: %v", err)
			}
			if got.PasswordHash != "new" || got.MustChangePassword != mustChange || got.SessionEpoch != int64(i+1) || got.PasswordChangedAt.Before(before) {
				t.Errorf("after SetPassword(must change %v): %+v; want the new hash, epoch %d, changed now", mustChange, got, i+1)
			}
			if stored, _ := d.UserByID(ctx, u.ID); stored != got {
				t.Errorf("stored %+v, returned %+v", stored, got)
			}
		}
		if _, err := d.SetPassword(ctx, u.ID, "", false, nil); err == nil {
			t.Error("an empty hash was stored")
		}
		if _, err := d.SetPassword(ctx, 999, "h", false, nil); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("SetPassword of a missing user: %v, want ErrNotFound", err)
		}
	})
}

func TestSetDisabled(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		d.CreateUser(ctx, "admin", "admin", "h", nil)
		u, _ := d.CreateUser(ctx, "gus", "operator", "h", nil)
		steps := []struct {
			name     string
			disabled bool
			epoch    int64
		}{
			{"disabling ends the sessions", true, 1},
			{"disabling again changes nothing", true, 1},
			{"enabling revives no session", false, 1},
			{"disabling once more ends the new ones", true, 2},
		}
		for _, st := range steps {
			got, err := d.SetDisabled(ctx, u.ID, st.disabled, nil)
			if err != nil || got.Disabled != st.disabled || got.SessionEpoch != st.epoch || got.Role != "operator" {
				t.Errorf("%s: %+v, %v; want disabled %v at epoch %d", st.name, got, err, st.disabled, st.epoch)
			}
		}
	})
}

func TestLastAdminRule(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		ctx := context.Background()
		tests := []struct {
			name   string
			others []db.User // besides "root", an enabled admin
			act    func(d *db.DB, id int64) error
			last   bool // want ErrLastAdmin
		}{
			{name: "demoting the only admin", act: demote, last: true},
			{name: "disabling the only admin", act: disable, last: true},
			{name: "a disabled admin does not count", others: []db.User{{Name: "off", Role: "admin", Disabled: true}}, act: demote, last: true},
			{name: "operators do not count", others: []db.User{{Name: "op", Role: "operator"}}, act: disable, last: true},
			{name: "demoting one of two admins", others: []db.User{{Name: "second", Role: "admin"}}, act: demote},
			{name: "disabling one of two admins", others: []db.User{{Name: "second", Role: "admin"}}, act: disable},
			{name: "admin to admin is no demotion", act: func(d *db.DB, id int64) error {
				_, _, err := d.SetRole(ctx, id, "admin", nil)
				return err
			}},
			{name: "enabling the only admin", act: func(d *db.DB, id int64) error {
				_, err := d.SetDisabled(ctx, id, false, nil)
				return err
			}},
			{name: "resetting the only admin's password", act: func(d *db.DB, id int64) error {
				_, err := d.SetPassword(ctx, id, "h2", true, nil)
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := open(t)
				root, _ := d.CreateUser(ctx, "root", "admin", "h", nil)
				for _, o := range tt.others {
					o.PasswordHash = "h"
					if _, err := d.InsertUser(ctx, o, nil); err != nil {
						t.Fatal(err)
					}
				}
				err := tt.act(d, root.ID)
				if got := errors.Is(err, db.ErrLastAdmin); got != tt.last || (!tt.last && err != nil) {
					t.Fatalf("error %v; want ErrLastAdmin: %v", err, tt.last)
				}
				after, _ := d.UserByID(ctx, root.ID)
				if tt.last && (after != root) {
					t.Errorf("refused, yet root changed: %+v → %+v", root, after)
				}
				if tt.last && !strings.Contains(err.Error(), `"root"`) {
					t.Errorf("error %q does not name the user", err)
				}
			})
		}
	})
}

func demote(d *db.DB, id int64) error {
	_, _, err := d.SetRole(context.Background(), id, "viewer", nil)
	return err
}

func disable(d *db.DB, id int64) error {
	_, err := d.SetDisabled(context.Background(), id, true, nil)
	return err
}

func TestSetRoleReturnsTheOldRole(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		u, _ := d.CreateUser(ctx, "hal", "viewer", "h", nil)
		got, old, err := d.SetRole(ctx, u.ID, "approver", nil)
		if err != nil || old != "viewer" || got.Role != "approver" || got.SessionEpoch != u.SessionEpoch {
			t.Errorf("SetRole = %+v, %q, %v; want approver, was viewer, sessions kept", got, old, err)
		}
		if _, _, err := d.SetRole(ctx, u.ID, "root", nil); err == nil {
			t.Error("role root accepted")
		}
		if _, _, err := d.SetRole(ctx, 999, "viewer", nil); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("SetRole of a missing user: %v, want ErrNotFound", err)
		}
	})
}

// TestLastAdminRuleUnderConcurrency: admins demoting and disabling each
// other at the same moment never leave the panel without one. A check
// outside the write transaction would let every one of them through.
func TestLastAdminRuleUnderConcurrency(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		ctx := context.Background()
		for round := range 5 {
			d := open(t)
			const n = 6
			ids := make([]int64, n)
			for i := range ids {
				u, err := d.CreateUser(ctx, "admin"+strconv.Itoa(i), "admin", "h", nil)
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = u.ID
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, id := range ids {
				wg.Go(func() {
					<-start
					if i%2 == 0 {
						errs[i] = demote(d, id)
					} else {
						errs[i] = disable(d, id)
					}
				})
			}
			close(start)
			wg.Wait()
			var refused int
			for i, err := range errs {
				switch {
				case errors.Is(err, db.ErrLastAdmin):
					refused++
				case err != nil:
					t.Fatalf("round %d, admin %d: %v", round, i, err)
				}
			}
			users, _ := d.Users(ctx)
			var admins int
			for _, u := range users {
				if u.Role == "admin" && !u.Disabled {
					admins++
				}
			}
			if refused != 1 || admins != 1 {
				t.Fatalf("round %d: %d refused, %d enabled admins left; want exactly 1 and 1", round, refused, admins)
			}
		}
	})
}
