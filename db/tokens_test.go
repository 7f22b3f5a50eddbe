package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestCreateToken(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	u, err := d.CreateUser(ctx, "alice", db.RoleOperator, "h")
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
}

func TestUserByTokenHash(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	u, err := d.CreateUser(ctx, "alice", db.RoleOperator, "h")
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	hash := sha256.Sum256([]byte("secret"))
	created, err := d.CreateToken(ctx, u.ID, "ci", hash[:])
	if err != nil {
		t.Fatalf("create token: %v", err)
	}

	unknown := sha256.Sum256([]byte("guess"))
	if _, _, err := d.UserByTokenHash(ctx, unknown[:]); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown hash: error = %v, want ErrNotFound", err)
	}

	var lastUsed time.Time
	for i := range 2 {
		before := time.Now().Truncate(time.Millisecond)
		gotUser, tok, err := d.UserByTokenHash(ctx, hash[:])
		after := time.Now()
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if gotUser != u || tok.ID != created.ID || tok.Name != "ci" {
			t.Errorf("lookup %d = %+v, %+v; want user %+v, token %d", i, gotUser, tok, u, created.ID)
		}
		if tok.LastUsedAt == nil || tok.LastUsedAt.Before(before) || tok.LastUsedAt.After(after) {
			t.Fatalf("lookup %d: LastUsedAt = %v, want within [%v, %v]", i, tok.LastUsedAt, before, after)
		}
		if i > 0 && !tok.LastUsedAt.After(lastUsed) {
			t.Errorf("lookup %d: LastUsedAt = %v, want after the previous %v", i, tok.LastUsedAt, lastUsed)
		}
		lastUsed = *tok.LastUsedAt
		time.Sleep(2 * time.Millisecond)
	}
}

func TestTokensDeletedWithTheirUser(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	u, err := d.CreateUser(ctx, "alice", db.RoleOperator, "h")
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	hash := sha256.Sum256([]byte("secret"))
	if _, err := d.CreateToken(ctx, u.ID, "ci", hash[:]); err != nil {
		t.Fatalf("create token: %v", err)
	}
	if _, err := d.SQL().Exec(`DELETE FROM users WHERE id = ?`, u.ID); err != nil {
		t.Fatalf("delete user: %v", err)
	}
	if _, _, err := d.UserByTokenHash(ctx, hash[:]); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("token of deleted user: error = %v, want ErrNotFound", err)
	}
}
