package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func tokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newToken stores an enrollment token "secret-<name>" for group web.
func newToken(t *testing.T, d *db.DB, name string, expires time.Time) db.EnrollmentToken {
	t.Helper()
	tok, err := d.CreateEnrollmentToken(context.Background(), db.EnrollmentToken{
		Group: "web", CreatedBy: "alice", CreatedAt: t0, ExpiresAt: expires}, tokenHash("secret-"+name),
		func(tk db.EnrollmentToken) db.AuditEvent {
			return db.AuditEvent{User: "alice", Action: "enrollment.created", Detail: fmt.Sprint("token #", tk.ID)}
		})
	if err != nil {
		t.Fatalf("create enrollment token: %v", err)
	}
	return tok
}

func enroll(d *db.DB, token, host string, at time.Time) (db.Host, error) {
	return d.Enroll(context.Background(), db.Enrollment{TokenHash: tokenHash("secret-" + token),
		Name: host, PublicKey: "key-" + host, Version: "1", At: at}, nil)
}

func TestEnrollRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		newToken(t, d, "fresh", t0.Add(time.Hour))
		newToken(t, d, "used", t0.Add(time.Hour))
		newToken(t, d, "expired", t0.Add(time.Minute))
		revoked := newToken(t, d, "revoked", t0.Add(time.Hour))
		if _, err := enroll(d, "used", "first", t0); err != nil {
			t.Fatalf("spend token: %v", err)
		}
		if _, err := d.RevokeEnrollmentToken(ctx, revoked.ID, t0, nil); err != nil {
			t.Fatalf("revoke token: %v", err)
		}
		tests := []struct {
			name, token string
			at          time.Time
			reason      string // "" for success
		}{
			{"an unknown token is refused", "nobody", t0, db.RefusedUnknown},
			{"a used token is refused", "used", t0, db.RefusedUsed},
			{"an expired token is refused", "expired", t0.Add(time.Minute), db.RefusedExpired},
			{"a revoked token is refused", "revoked", t0, db.RefusedRevoked},
			{"a fresh token enrolls", "fresh", t0.Add(59 * time.Minute), ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h, err := enroll(d, tt.token, "host-"+tt.token, tt.at)
				var refused *db.EnrollRefusedError
				switch {
				case tt.reason == "" && err != nil:
					t.Fatalf("enroll: %v", err)
				case tt.reason == "":
					if h.Group != "web" || h.PublicKey != "key-host-fresh" || h.RevokedAt != nil {
						t.Errorf("enrolled %+v", h)
					}
				case !errors.As(err, &refused) || refused.Reason != tt.reason:
					t.Errorf("enroll = %v, want refusal %q", err, tt.reason)
				}
			})
		}
	})
}

func TestOneTokenEnrollsOneHostUnderARace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		newToken(t, d, "race", t0.Add(time.Hour))
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = enroll(d, "race", fmt.Sprint("host-", i), t0)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			var refused *db.EnrollRefusedError
			switch {
			case err == nil:
				ok++
			case !errors.As(err, &refused) || refused.Reason != db.RefusedUsed:
				t.Errorf("loser got %v, want %q", err, db.RefusedUsed)
			}
		}
		hosts, err := d.Hosts(context.Background(), db.HostQuery{})
		if ok != 1 || err != nil || len(hosts) != 1 {
			t.Errorf("%d enrollments succeeded, %d hosts stored (%v); want one", ok, len(hosts), err)
		}
	})
}

func TestEnrollNameOfALiveHostLeavesTheTokenUnspent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		newToken(t, d, "a", t0.Add(time.Hour))
		newToken(t, d, "b", t0.Add(time.Hour))
		if _, err := enroll(d, "a", "web1", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := enroll(d, "b", "web1", t0); !errors.Is(err, db.ErrConflict) {
			t.Fatalf("second enrollment of a live name = %v, want ErrConflict", err)
		}
		if _, err := enroll(d, "b", "web2", t0); err != nil {
			t.Errorf("the token should still be unspent: %v", err)
		}
	})
}

func TestRevokedHostReenrollsWithANewToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		newToken(t, d, "a", t0.Add(time.Hour))
		newToken(t, d, "b", t0.Add(time.Hour))
		if _, err := enroll(d, "a", "web1", t0); err != nil {
			t.Fatal(err)
		}
		h, err := d.SetDesired(ctx, "web1", []byte(`{"operation":"set"}`), t0, nil)
		if err != nil || h.Generation != 1 {
			t.Fatalf("set desired: gen %d, %v", h.Generation, err)
		}
		if _, err := d.RevokeHost(ctx, "web1", t0, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := d.RevokeHost(ctx, "web1", t0, nil); !errors.Is(err, db.ErrConflict) {
			t.Errorf("second revoke = %v, want ErrConflict", err)
		}
		if _, err := d.SetDesired(ctx, "web1", nil, t0, nil); !errors.Is(err, db.ErrConflict) {
			t.Errorf("desired state of a revoked host = %v, want ErrConflict", err)
		}
		if _, err := d.RevokeHost(ctx, "nobody", t0, nil); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("revoke unknown = %v, want ErrNotFound", err)
		}
		h, err = d.Enroll(ctx, db.Enrollment{TokenHash: tokenHash("secret-b"), Name: "web1", PublicKey: "new", At: t0}, nil)
		if err != nil {
			t.Fatalf("re-enroll: %v", err)
		}
		if h.RevokedAt != nil || h.PublicKey != "new" || h.Generation != 1 {
			t.Errorf("re-enrolled host %+v: want not revoked, the new key, generations kept", h)
		}
	})
}

func TestEnrollmentAuditedInTheSameTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tok := newToken(t, d, "a", t0.Add(time.Hour))
		if _, err := d.RevokeEnrollmentToken(ctx, tok.ID, t0, func(tk db.EnrollmentToken) db.AuditEvent {
			return db.AuditEvent{User: "alice", Action: "enrollment.revoked"}
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.RevokeEnrollmentToken(ctx, tok.ID, t0, nil); !errors.Is(err, db.ErrConflict) {
			t.Errorf("revoke twice = %v, want ErrConflict", err)
		}
		events, err := d.Audit(ctx, 10, 0)
		if err != nil || len(events) != 2 || events[0].Action != "enrollment.revoked" || events[1].Action != "enrollment.created" {
			t.Errorf("audit = %+v, %v", events, err)
		}
		list, err := d.EnrollmentTokens(ctx, 10, 0)
		if err != nil || len(list) != 1 || list[0].RevokedAt == nil || !list[0].ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("tokens = %+v, %v", list, err)
		}
	})
}
