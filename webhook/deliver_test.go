package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/internal/hooktest"
	"portpanel/webhook"
)

// setup opens a database with the webhook notifier, starts a receiver
// answering statuses in turn, and subscribes it to change.applied.
func setup(t *testing.T, statuses ...int) (*db.DB, *hooktest.Receiver, db.Endpoint) {
	t.Helper()
	d := dbtest.Open(t)
	d.SetNotifier(webhook.Notifier("testhost"))
	rcv, err := hooktest.Start(webhook.NewSecret(), statuses...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })
	ep, err := d.AddEndpoint(context.Background(), db.Endpoint{URL: rcv.URL, Secret: rcv.Secret, Events: []string{webhook.ChangeApplied},
		Format: db.FormatStandard, Enabled: true, CreatedBy: "alice"}, func(db.Endpoint) db.AuditEvent { return db.AuditEvent{Action: "webhook.created"} })
	if err != nil {
		t.Fatal(err)
	}
	return d, rcv, ep
}

func applyChange(t *testing.T, d *db.DB) db.AuditEvent {
	t.Helper()
	c := db.Change{Status: db.StatusApplied, Low: 20000, High: 40000, BeforeLow: 32768, BeforeHigh: 60999,
		Reason: "more ports", UserID: 1, User: "alice", File: "/etc/sysctl.conf"}
	_, e, err := d.RecordChange(context.Background(), c, db.AuditEvent{User: "alice", Action: "change.applied"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// sender is a Sender that may call loopback and retries after a few ms.
func sender(d *db.DB) *webhook.Sender {
	s := webhook.NewSender(d, webhook.Policy{AllowPrivate: true})
	s.Retry = webhook.Retry{First: 20 * time.Millisecond, Max: 20 * time.Millisecond}
	return s
}

// runUntil runs s until the receiver has n requests.
func runUntil(t *testing.T, s *webhook.Sender, rcv *hooktest.Receiver, n int) []hooktest.Request {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(rcv.Requests()) < n && time.Now().Before(deadline) {
		if _, err := s.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, err := rcv.WaitFor(n, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestA500IsRetriedThenDeliveredWithTheSameID(t *testing.T) {
	d, rcv, ep := setup(t, http.StatusInternalServerError, http.StatusNoContent)
	event := applyChange(t, d)
	s := sender(d)
	got := runUntil(t, s, rcv, 2)
	for i, r := range got {
		if r.Verified != nil {
			t.Errorf("request %d: signature does not verify: %v", i+1, r.Verified)
		}
	}
	if got[0].ID != got[1].ID || !bytes.Equal(got[0].Body, got[1].Body) || !strings.HasPrefix(got[0].ID, "msg_") {
		t.Errorf("the retry sent id %s body %s, the first id %s body %s: want the same msg_ id and body", got[1].ID, got[1].Body, got[0].ID, got[0].Body)
	}
	var body struct {
		Type, Timestamp string
		Data            struct {
			Host    string
			EventID int64 `json:"event_id"`
			Actor   string
			Change  struct {
				ID     int64
				Status string
				After  struct{ Low, High int }
			}
		}
	}
	if err := json.Unmarshal(got[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != webhook.ChangeApplied || body.Data.EventID != event.ID || body.Data.Host != "testhost" || body.Data.Actor != "alice" ||
		body.Data.Change.Status != db.StatusApplied || body.Data.Change.After.Low != 20000 || body.Timestamp == "" {
		t.Errorf("body %s: want a change.applied of event %d on testhost by alice, change applied to 20000", got[0].Body, event.ID)
	}
	list, err := d.Deliveries(context.Background(), ep.ID, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries: %v %v", list, err)
	}
	if x := list[0]; x.Status != db.DeliveryDelivered || x.Attempts != 2 || x.MsgID != got[0].ID || x.LastStatus != http.StatusNoContent {
		t.Errorf("delivery is %s after %d attempts (id %s, last %d); want delivered after 2, id %s, last 204", x.Status, x.Attempts, x.MsgID, x.LastStatus, got[0].ID)
	}
	if c := s.Stats.Counts(); c["failed"] != 1 || c["delivered"] != 1 || c["dead"] != 0 {
		t.Errorf("stats %v, want 1 failed and 1 delivered", c)
	}
	if _, err := s.Run(context.Background()); err != nil || len(rcv.Requests()) != 2 {
		t.Errorf("a run after delivery sent again: %d requests (%v)", len(rcv.Requests()), err)
	}
}

func TestADeliveryIsGivenUpAfter24Hours(t *testing.T) {
	d, rcv, ep := setup(t, http.StatusServiceUnavailable)
	applyChange(t, d)
	s := sender(d)
	s.Retry = webhook.Retry{First: time.Hour, Max: time.Hour}
	start := time.Now()
	s.Now = func() time.Time { return start.Add(webhook.GiveUp - 10*time.Minute) }
	if n, err := s.Run(context.Background()); n != 1 || err != nil {
		t.Fatalf("Run = %d, %v; want one sent", n, err)
	}
	list, err := d.Deliveries(context.Background(), ep.ID, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries: %v %v", list, err)
	}
	if x := list[0]; x.Status != db.DeliveryDead || !strings.Contains(x.LastError, "503") || !strings.Contains(x.LastError, "given up") {
		t.Errorf("delivery is %s (%q), want dead with the 503 and the giving up in its error", x.Status, x.LastError)
	}
	if c := s.Stats.Counts(); c["dead"] != 1 {
		t.Errorf("stats %v, want 1 dead", c)
	}
	if len(rcv.Requests()) != 1 {
		t.Errorf("%d requests, want 1", len(rcv.Requests()))
	}
}

func TestARedirectIsNotFollowed(t *testing.T) {
	d, rcv, ep := setup(t, http.StatusFound)
	applyChange(t, d)
	s := sender(d)
	if _, err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range rcv.Requests() {
		if r.Path != "/hook" {
			t.Errorf("the redirect to %s was followed", r.Path)
		}
	}
	got, _ := d.Endpoint(context.Background(), ep.ID)
	if got.LastStatus != http.StatusFound || got.Pending != 1 {
		t.Errorf("endpoint's last status %d with %d pending; want 302 and the delivery waiting for a retry", got.LastStatus, got.Pending)
	}
}

// A URL stored while its host was public may resolve to loopback later
// (DNS rebinding): the dial itself must refuse it.
func TestTheDialRefusesAPrivateAddressWithoutTheFlag(t *testing.T) {
	d, rcv, ep := setup(t)
	applyChange(t, d)
	s := webhook.NewSender(d, webhook.Policy{})
	if _, err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.Requests()); n != 0 {
		t.Errorf("the receiver on loopback got %d requests, want none", n)
	}
	got, _ := d.Endpoint(context.Background(), ep.ID)
	if !strings.Contains(got.LastError, "refused to connect to 127.0.0.1") || strings.Contains(got.LastError, rcv.URL) {
		t.Errorf("endpoint's last error %q, want the refusal, without the URL", got.LastError)
	}
}

func TestRetryDelayGrowsWithJitterUpToItsCeiling(t *testing.T) {
	r := webhook.Retry{First: 5 * time.Second, Max: time.Hour}
	low, high := func() float64 { return 0 }, func() float64 { return 0.999999 }
	for _, tc := range []struct {
		attempts int
		full     time.Duration
	}{{1, 5 * time.Second}, {2, 10 * time.Second}, {5, 80 * time.Second}, {12, time.Hour}, {500, time.Hour}} {
		if got := r.Delay(tc.attempts, low); got != tc.full/2 {
			t.Errorf("Delay(%d) with the least jitter = %s, want %s", tc.attempts, got, tc.full/2)
		}
		if got := r.Delay(tc.attempts, high); got < tc.full-tc.full/1000 || got > tc.full {
			t.Errorf("Delay(%d) with the most jitter = %s, want about %s", tc.attempts, got, tc.full)
		}
	}
}
