package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestCreateToken(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		u, err := d.CreateUser(ctx, "alice", "operator", "h", nil)
		if err != nil {
			t.Fatalf("create user: %v", err)
		}
		taken := sha256.Sum256([]byte("taken"))
		if _, err := d.CreateToken(ctx, u.ID, "ci", taken[:]); err != nil {
			t.Fatalf("seed token: %v", err)
		}
		fresh := sha256.Sum256([]byte("fresh"))
		other := sha256.Sum256([]byte("other"))
		tests := []struct {
			name     string
			userID   int64
			hash     []byte
			wantErr  bool
			conflict bool
		}{
			{name: "new hash", userID: u.ID, hash: fresh[:]},
			{name: "same hash again is a conflict", userID: u.ID, hash: taken[:], wantErr: true, conflict: true},
			{name: "unknown user is refused", userID: 999, hash: other[:], wantErr: true},
			{name: "empty hash is refused", userID: u.ID, hash: nil, wantErr: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tok, err := d.CreateToken(ctx, tt.userID, "t", tt.hash)
				if tt.wantErr {
					if err == nil {
						t.Fatal("CreateToken succeeded, want error")
					}
					if got := errors.Is(err, db.ErrConflict); got != tt.conflict {
						t.Errorf("errors.Is(%v, ErrConflict) = %v, want %v", err, got, tt.conflict)
					}
					return
				}
				if err != nil {
					t.Fatalf("CreateToken: %v", err)
				}
				if tok.ID == 0 || tok.UserID != tt.userID || tok.LastUsedAt != nil {
					t.Errorf("token = %+v: want an id, user %d, never used", tok, tt.userID)
				}
			})
		}
	})
}

func TestTokensDeletedWithTheirUser(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		u, err := d.CreateUser(ctx, "alice", "operator", "h", nil)
		if err != nil {
			t.Fatalf("create user: %v", err)
		}
		hash := sha256.Sum256([]byte("secret"))
		if _, err := d.CreateToken(ctx, u.ID, "ci", hash[:]); err != nil {
			t.Fatalf("create token: %v", err)
		}
		if _, err := d.SQL().Exec(`DELETE FROM users WHERE id = $1`, u.ID); err != nil {
			t.Fatalf("delete user: %v", err)
		}
		if _, _, err := d.UserByTokenHash(ctx, hash[:]); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("token of deleted user: error = %v, want ErrNotFound", err)
		}
	})
}

// tokenDB is a database with users alice (operator) and bob (viewer).
func tokenDB(t *testing.T) (*db.DB, db.User, db.User) {
	t.Helper()
	d := dbtest.Open(t)
	alice, err := d.CreateUser(t.Context(), "alice", "operator", "h", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := d.CreateUser(t.Context(), "bob", "viewer", "h", nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, alice, bob
}

func hashOf(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func TestAddTokenStoresRoleExpiryAndItsAuditEvent(t *testing.T) {
	ctx := t.Context()
	d, alice, _ := tokenDB(t)
	expires := time.Date(2031, 2, 3, 4, 5, 6, 789123456, time.UTC)
	tok, err := d.AddToken(ctx, db.Token{UserID: alice.ID, Name: "deploy", Role: "viewer", ExpiresAt: &expires},
		hashOf("s1"), func(t db.Token) db.AuditEvent {
			return db.AuditEvent{User: "alice", Action: "token.created", Detail: fmt.Sprintf("token #%d", t.ID)}
		})
	if err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	if tok.ID == 0 || tok.Role != "viewer" || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(expires.Truncate(time.Millisecond)) {
		t.Errorf("AddToken = %+v; want an id, role viewer, expiry %v to the millisecond", tok, expires)
	}
	got, err := d.Token(ctx, tok.ID)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	want := db.OwnedToken{Token: tok, Owner: "alice", OwnerRole: "operator"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Token(%d) = %+v, want %+v", tok.ID, got, want)
	}
	events, err := d.Audit(ctx, 10, 0)
	if err != nil || len(events) != 1 || events[0].Detail != fmt.Sprintf("token #%d", tok.ID) {
		t.Errorf("audit = %+v, %v; want one event naming token #%d", events, err, tok.ID)
	}
}

func TestAddTokenIsAllOrNothing(t *testing.T) {
	ctx := t.Context()
	d, alice, _ := tokenDB(t)
	tests := []struct {
		name  string
		tok   db.Token
		audit func(db.Token) db.AuditEvent
	}{
		{name: "audit event refused", tok: db.Token{UserID: alice.ID, Name: "x"},
			// The audit table refuses an empty action: the token must go too.
			audit: func(db.Token) db.AuditEvent { return db.AuditEvent{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := d.AddToken(ctx, tt.tok, hashOf(tt.name), tt.audit); err == nil {
				t.Fatal("AddToken succeeded, want an error")
			}
			if _, _, err := d.UserByTokenHash(ctx, hashOf(tt.name)); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("token stored anyway: lookup error %v, want ErrNotFound", err)
			}
		})
	}
}

func TestUserByTokenHash(t *testing.T) {
	ctx := t.Context()
	d, alice, _ := tokenDB(t)
	expires := time.Now().Add(time.Hour)
	created, err := d.AddToken(ctx, db.Token{UserID: alice.ID, Name: "ci", Role: "viewer", ExpiresAt: &expires}, hashOf("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.UserByTokenHash(ctx, hashOf("guess")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown hash: error = %v, want ErrNotFound", err)
	}
	for i := range 2 {
		u, tok, err := d.UserByTokenHash(ctx, hashOf("secret"))
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		// A lookup only reads: TokenUsed records a use once the caller
		// accepted the token.
		if u != alice || !reflect.DeepEqual(tok, created) {
			t.Errorf("lookup %d = %+v, %+v; want %+v, %+v", i, u, tok, alice, created)
		}
	}
}

func TestTokenUsedWritesAtMostOnceAMinute(t *testing.T) {
	ctx := t.Context()
	d, alice, _ := tokenDB(t)
	tok, err := d.CreateToken(ctx, alice.ID, "ci", hashOf("secret"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{name: "first use is recorded", at: t0, want: t0},
		{name: "a use 59 s later is not", at: t0.Add(59 * time.Second), want: t0},
		{name: "a use a minute later is", at: t0.Add(time.Minute), want: t0.Add(time.Minute)},
		{name: "an older use never goes back", at: t0, want: t0.Add(time.Minute)},
	}
	for _, st := range steps {
		if err := d.TokenUsed(ctx, tok.ID, st.at); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := d.Token(ctx, tok.ID)
		if err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(st.want) {
			t.Errorf("%s: last used %v (%v), want %v", st.name, got.LastUsedAt, err, st.want)
		}
	}
}

func TestTokenLists(t *testing.T) {
	ctx := t.Context()
	d, alice, bob := tokenDB(t)
	for i, owner := range []db.User{alice, bob, alice} {
		if _, err := d.CreateToken(ctx, owner.ID, fmt.Sprintf("t%d", i+1), hashOf(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	names := func(list []db.OwnedToken) string {
		var out []string
		for _, t := range list {
			out = append(out, t.Name+"/"+t.Owner+"/"+t.OwnerRole)
		}
		return strings.Join(out, " ")
	}
	mine, err := d.Tokens(ctx, alice.ID)
	if got, want := names(mine), "t3/alice/operator t1/alice/operator"; err != nil || got != want {
		t.Errorf("Tokens(alice) = %s (%v), want %s", got, err, want)
	}
	all, err := d.AllTokens(ctx)
	if got, want := names(all), "t3/alice/operator t2/bob/viewer t1/alice/operator"; err != nil || got != want {
		t.Errorf("AllTokens = %s (%v), want %s", got, err, want)
	}
	if none, err := d.Tokens(ctx, 999); err != nil || len(none) != 0 {
		t.Errorf("Tokens(unknown user) = %v, %v; want none", none, err)
	}
}

func TestRevokeToken(t *testing.T) {
	ctx := t.Context()
	d, alice, _ := tokenDB(t)
	tok, err := d.CreateToken(ctx, alice.ID, "ci", hashOf("secret"))
	if err != nil {
		t.Fatal(err)
	}
	// A refused audit event keeps the token: revocation is never unrecorded.
	if _, err := d.RevokeToken(ctx, tok.ID, func(db.Token) db.AuditEvent { return db.AuditEvent{} }); err == nil {
		t.Fatal("revoke with a refused audit event succeeded")
	}
	if _, err := d.Token(ctx, tok.ID); err != nil {
		t.Fatalf("token gone after a failed revoke: %v", err)
	}

	gone, err := d.RevokeToken(ctx, tok.ID, func(t db.Token) db.AuditEvent {
		return db.AuditEvent{User: "alice", Action: "token.revoked", Detail: t.Name}
	})
	if err != nil || gone.ID != tok.ID || gone.Name != "ci" {
		t.Fatalf("RevokeToken = %+v, %v; want token %d", gone, err, tok.ID)
	}
	if _, _, err := d.UserByTokenHash(ctx, hashOf("secret")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("lookup after revoke: %v, want ErrNotFound", err)
	}
	if _, err := d.RevokeToken(ctx, tok.ID, nil); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	events, err := d.Audit(ctx, 10, 0)
	if err != nil || len(events) != 1 || events[0].Action != "token.revoked" || events[0].Detail != "ci" {
		t.Errorf("audit = %+v, %v; want the one revocation", events, err)
	}
}
