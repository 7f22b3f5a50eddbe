package fleet_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/fleet"
	"portpanel/internal/testclock"
)

// replicas returns two services on one database, as two serve
// processes on one PostgreSQL are (and on one SQLite file, in a test).
func replicas(d *db.DB) (*fleet.Service, *fleet.Service, *testclock.Clock) {
	c := testclock.New(time.Now().UTC())
	return &fleet.Service{DB: d, Now: c.Now}, &fleet.Service{DB: d, Now: c.Now}, c
}

func TestReportLimitHoldsAcrossReplicas(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s1, s2, c := replicas(d)
		limit := fleet.ReportLimit{Every: time.Minute, Burst: 2}
		s1.Reports, s2.Reports = limit, limit
		a, _ := enrollHost(t, s1, "web1")
		rep := agentapi.Report{PollSeconds: 30}
		ctx := context.Background()
		// Alternating replicas gains nothing: the third report in a row is
		// one too many, whichever replica takes it.
		for i, s := range []*fleet.Service{s1, s2, s1, s2} {
			_, err := s.RecordReport(ctx, a, rep)
			var tm *fleet.TooManyError
			switch {
			case i < 2 && err != nil:
				t.Fatalf("report %d = %v, want accepted", i, err)
			case i >= 2 && (!errors.As(err, &tm) || tm.RetryAfter != time.Minute):
				t.Fatalf("report %d = %v, want TooManyError retrying after a minute", i, err)
			}
		}
		c.Advance(time.Minute)
		if _, err := s2.RecordReport(ctx, a, rep); err != nil {
			t.Errorf("report a minute later = %v, want accepted", err)
		}
		if _, err := s1.RecordReport(ctx, a, rep); !errors.Is(err, fleet.ErrTooMany) {
			t.Errorf("and one more at once = %v, want ErrTooMany", err)
		}
	})
}

func TestPollAnswersHaveAFloor(t *testing.T) {
	s, _ := newService(t)
	s.PollFloor = 100 * time.Millisecond
	a, _ := enrollHost(t, s, "web1")
	b, _ := enrollHost(t, s, "web2")
	ctx := context.Background()
	start := time.Now()
	// after=0 on a host at generation 0 with wait=0: nothing new, and no
	// wait asked. Five of them in a row still take four floors.
	for range 5 {
		if _, err := s.Desired(ctx, a, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 4*s.PollFloor {
		t.Errorf("5 polls with wait=0 answered in %s, want at least %s", took, 4*s.PollFloor)
	}
	start = time.Now()
	if _, err := s.Desired(ctx, b, 0, 0); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= s.PollFloor {
		t.Errorf("another host's poll waited %s: the floor is per host", took)
	}
}

func TestUnansweredPreviewIsNotOfferedInEveryPoll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, s2, c := replicas(d)
		s.PollFloor, s2.PollFloor = time.Millisecond, time.Millisecond
		a, _ := enrollHost(t, s, "web1")
		ctx := context.Background()
		if _, err := d.AddPreview(ctx, db.HostPreview{ID: "p1", HostID: a.Host.ID,
			Keys: []byte(`{"net.ipv4.ip_local_port_range":"20000 60000"}`), CreatedAt: c.Now()}); err != nil {
			t.Fatal(err)
		}
		if dd, err := s.Desired(ctx, a, 0, 0); err != nil || len(dd.Previews) != 1 || dd.Previews[0].ID != "p1" {
			t.Fatalf("first poll = %+v, %v; want preview p1", dd, err)
		}
		// The agent did not answer (its answer was refused, say). Its next
		// polls, on either replica, wait as usual instead of returning the
		// preview at once, again and again.
		const wait = 200 * time.Millisecond
		for _, r := range []*fleet.Service{s, s2} {
			start := time.Now()
			dd, err := r.Desired(ctx, a, 0, wait)
			if err != nil || len(dd.Previews) != 0 || time.Since(start) < wait {
				t.Fatalf("poll right after = %+v, %v after %s; want no preview, after the wait", dd, err, time.Since(start))
			}
		}
		c.Advance(fleet.PreviewAgain)
		if dd, err := s2.Desired(ctx, a, 0, 0); err != nil || len(dd.Previews) != 1 {
			t.Errorf("poll %s later = %+v, %v; want the preview offered again", fleet.PreviewAgain, dd, err)
		}
	})
}

// Keys are cached per replica; a revocation or rotation on another one
// is still honoured at the next request.
func TestKeyChangesOnAnotherReplicaAreHonouredAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s1, s2, c := replicas(d)
		ctx := context.Background()
		_, key := enrollHost(t, s1, "web1")
		auth := func(s *fleet.Service, k ed25519.PrivateKey) error {
			req := httptest.NewRequest("GET", agentapi.PathDesired, nil)
			if err := agentapi.Sign(req, nil, "web1", k, c.Now()); err != nil {
				t.Fatal(err)
			}
			_, err := s.Authenticate(ctx, req, nil)
			return err
		}
		if err := auth(s2, key); err != nil {
			t.Fatalf("request on replica 2 = %v", err)
		}
		// Rotate on replica 1: replica 2 accepts the new key (and the old
		// one in its grace), though it had cached the old one.
		_, newKey, _ := agentapi.GenerateKey()
		req := httptest.NewRequest("POST", agentapi.PathRotate, nil)
		body, err := agentapi.SignRotation(req, "web1", key, newKey, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		var rr agentapi.RotateRequest
		if err := json.Unmarshal(body, &rr); err != nil {
			t.Fatal(err)
		}
		a, err := s1.Authenticate(ctx, req, body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s1.Rotate(ctx, a, req, rr); err != nil {
			t.Fatalf("rotate = %v", err)
		}
		if err := auth(s2, newKey); err != nil {
			t.Errorf("new key on replica 2 = %v", err)
		}
		if err := auth(s2, key); err != nil {
			t.Errorf("old key on replica 2, in its grace = %v", err)
		}
		c.Advance(fleet.KeyGrace + time.Second)
		if err := auth(s2, key); !errors.Is(err, fleet.ErrUnauthorized) {
			t.Errorf("old key after its grace = %v, want ErrUnauthorized", err)
		}
		if _, err := s1.RevokeHost(ctx, "alice", "web1"); err != nil {
			t.Fatal(err)
		}
		if err := auth(s2, newKey); !errors.Is(err, fleet.ErrUnauthorized) {
			t.Errorf("request on replica 2 right after replica 1 revoked = %v, want ErrUnauthorized", err)
		}
	})
}
