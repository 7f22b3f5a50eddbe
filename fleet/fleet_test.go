package fleet_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/fleet"
	"portpanel/internal/testclock"
)

func newService(t *testing.T) (*fleet.Service, *testclock.Clock) {
	t.Helper()
	c := testclock.New(time.Now().UTC())
	return &fleet.Service{DB: dbtest.Open(t), Now: c.Now}, c
}

// enrollHost enrolls name with a new key and returns the agent as
// Authenticate would, and its private key.
func enrollHost(t *testing.T, s *fleet.Service, name string) (fleet.Agent, ed25519.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	token, _, err := s.CreateEnrollment(ctx, "alice", "web", 0)
	if err != nil {
		t.Fatalf("create enrollment: %v", err)
	}
	pub, key, _ := agentapi.GenerateKey()
	if _, err := s.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: name,
		PublicKey: agentapi.EncodePublicKey(pub)}, "test"); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	req := httptest.NewRequest("GET", agentapi.PathDesired, nil)
	if err := agentapi.Sign(req, nil, name, key, s.Now()); err != nil {
		t.Fatal(err)
	}
	a, err := s.Authenticate(ctx, req, nil)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return a, key
}

func TestCreateEnrollmentBoundsTheTTL(t *testing.T) {
	s, c := newService(t)
	for _, tt := range []struct {
		ttl  time.Duration
		want time.Duration // 0: refused
	}{{0, time.Hour}, {24 * time.Hour, 24 * time.Hour}, {25 * time.Hour, 0}, {-time.Hour, 0}} {
		_, tok, err := s.CreateEnrollment(context.Background(), "alice", "web", tt.ttl)
		switch {
		case tt.want == 0 && !errors.Is(err, fleet.ErrInvalid):
			t.Errorf("ttl %s: err = %v, want ErrInvalid", tt.ttl, err)
		case tt.want != 0 && (err != nil || !tok.ExpiresAt.Equal(c.Now().Truncate(time.Millisecond).Add(tt.want))):
			t.Errorf("ttl %s: expires %s, %v; want %s later", tt.ttl, tok.ExpiresAt, err, tt.want)
		}
	}
}

func TestEnrollmentRefusalIsAuditedWithoutTheToken(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	token, _, err := s.CreateEnrollment(ctx, "alice", "web", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Minute)
	pub, _, _ := agentapi.GenerateKey()
	_, err = s.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: "web1", PublicKey: agentapi.EncodePublicKey(pub)}, "10.0.0.9")
	if !errors.Is(err, fleet.ErrUnauthorized) {
		t.Fatalf("enroll with an expired token = %v, want ErrUnauthorized", err)
	}
	events, err := s.DB.Audit(ctx, 10, 0)
	if err != nil || len(events) != 2 {
		t.Fatalf("audit = %v, %v", events, err)
	}
	e := events[0]
	if e.Action != "enrollment.refused" || !strings.Contains(e.Detail, db.RefusedExpired) || !strings.Contains(e.Detail, "10.0.0.9") {
		t.Errorf("refusal event = %+v", e)
	}
	for _, e := range events {
		if strings.Contains(e.Detail, token) || strings.Contains(e.Detail, token[4:20]) {
			t.Errorf("event %q carries the token", e.Detail)
		}
	}
}

func TestLongPollIsWokenBySetDesired(t *testing.T) {
	s, _ := newService(t)
	a, _ := enrollHost(t, s, "web1")
	ctx := context.Background()
	type answer struct {
		d   agentapi.Desired
		err error
		in  time.Duration
	}
	got := make(chan answer, 1)
	go func() {
		start := time.Now()
		d, err := s.Desired(ctx, a, 0, agentapi.MaxWait)
		got <- answer{d, err, time.Since(start)}
	}()
	// Not asserting how soon: that the answer carries generation 1 long
	// before the 30 s wait ends is what says the wake-up worked.
	time.Sleep(50 * time.Millisecond)
	change := &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: "20000 60000"}}
	if _, err := s.SetDesired(ctx, "web1", change, nil); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || r.d.Generation != 1 || r.d.Change == nil || r.d.Change.Keys[agentapi.KeyRange] != "20000 60000" {
		t.Fatalf("poll = %+v, %v", r.d, r.err)
	}
	if r.in >= agentapi.MaxWait/2 {
		t.Errorf("the poll answered after %s: not woken", r.in)
	}
	// Nothing new past generation 1: a short wait ends empty-handed.
	d, err := s.Desired(ctx, a, 1, 10*time.Millisecond)
	if err != nil || d.Generation != 1 {
		t.Errorf("poll after 1 = %+v, %v", d, err)
	}
}

func TestSetDesiredRefusesUntypedChanges(t *testing.T) {
	s, _ := newService(t)
	enrollHost(t, s, "web1")
	for _, c := range []agentapi.DesiredChange{
		{Operation: "exec", Keys: map[string]string{"cmd": "rm"}},
		{Operation: agentapi.OpSet, Keys: map[string]string{"kernel.core_pattern": "|/bin/sh"}},
		{Operation: agentapi.OpSet},
		{Operation: agentapi.OpRollback},
	} {
		if _, err := s.SetDesired(context.Background(), "web1", &c, nil); !errors.Is(err, fleet.ErrInvalid) {
			t.Errorf("SetDesired(%+v) = %v, want ErrInvalid", c, err)
		}
	}
}

func TestPreviewRoundTrip(t *testing.T) {
	s, _ := newService(t)
	a, _ := enrollHost(t, s, "web1")
	ctx := context.Background()
	go func() {
		d, err := s.Desired(ctx, a, 0, agentapi.MaxWait)
		if err != nil || len(d.Previews) != 1 {
			t.Errorf("poll = %+v, %v; want one preview", d, err)
			return
		}
		p := d.Previews[0]
		if err := s.AnswerPreview(ctx, a, agentapi.PreviewResult{ID: p.ID, Diff: "+" + p.Keys[agentapi.KeyRange]}); err != nil {
			t.Errorf("answer: %v", err)
		}
	}()
	res, err := s.RequestPreview(ctx, "web1", map[string]string{agentapi.KeyRange: "20000 60000"})
	if err != nil || res.Diff != "+20000 60000" {
		t.Errorf("preview = %+v, %v", res, err)
	}
}

func TestReportsAreRateLimitedPerHost(t *testing.T) {
	s, _ := newService(t)
	s.Reports = fleet.ReportLimit{Every: time.Hour, Burst: 2}
	a, _ := enrollHost(t, s, "web1")
	b, _ := enrollHost(t, s, "web2")
	rep := agentapi.Report{PollSeconds: 30, Observed: agentapi.Observed{Runtime: agentapi.Range{Low: 1, High: 2}}}
	ctx := context.Background()
	for i, want := range []error{nil, nil, fleet.ErrTooMany} {
		if _, err := s.RecordReport(ctx, a, rep); !errors.Is(err, want) {
			t.Errorf("report %d = %v, want %v", i, err, want)
		}
	}
	if _, err := s.RecordReport(ctx, b, rep); err != nil {
		t.Errorf("another host's report = %v", err)
	}
}

func TestConfirmNeedsAnUnconfirmedResult(t *testing.T) {
	s, _ := newService(t)
	a, _ := enrollHost(t, s, "web1")
	ctx := context.Background()
	change := &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: "20000 60000"}, ConfirmWithin: 60}
	if _, err := s.SetDesired(ctx, "web1", change, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, "web1", 1); !errors.Is(err, db.ErrConflict) {
		t.Errorf("confirm before the agent applied = %v, want ErrConflict", err)
	}
	rep := agentapi.Report{PollSeconds: 30, Results: []agentapi.Result{{Generation: 1, State: agentapi.ResultUnconfirmed}}}
	if _, err := s.RecordReport(ctx, a, rep); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, "web1", 1); err != nil {
		t.Fatalf("confirm = %v", err)
	}
	if d, err := s.Desired(ctx, a, 1, 0); err != nil || len(d.Confirm) != 1 || d.Confirm[0] != 1 {
		t.Errorf("poll = %+v, %v; want generation 1 confirmed", d, err)
	}
	rep.Results[0].State = agentapi.ResultConfirmed
	if _, err := s.RecordReport(ctx, a, rep); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Desired(ctx, a, 1, 0); err != nil || len(d.Confirm) != 0 {
		t.Errorf("poll after the agent confirmed = %+v, %v; want nothing to confirm", d, err)
	}
}

// Refusals need no credential, so they are audited at most once a minute
// per token, the ones in between counted in the next event.
func TestEnrollmentRefusalsCannotFloodTheAuditLog(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	pub, _, _ := agentapi.GenerateKey()
	try := func() {
		_, err := s.Enroll(ctx, agentapi.EnrollRequest{Token: "ppe_guess", Name: "web1", PublicKey: agentapi.EncodePublicKey(pub)}, "10.0.0.9")
		if !errors.Is(err, fleet.ErrUnauthorized) {
			t.Fatalf("enroll with an unknown token = %v", err)
		}
	}
	for range 50 {
		try()
	}
	c.Advance(time.Minute)
	try()
	events, err := s.DB.Audit(ctx, 100, 0)
	if err != nil || len(events) != 2 {
		t.Fatalf("%d audit events (%v), want 2", len(events), err)
	}
	if !strings.Contains(events[0].Detail, "and 49 more refused") {
		t.Errorf("second event %q does not count the 49 folded refusals", events[0].Detail)
	}
}
