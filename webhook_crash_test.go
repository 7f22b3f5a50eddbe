package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"portpanel/internal/hooktest"
	"portpanel/sysctl/sysctltest"
	"portpanel/webhook"
)

// TestWebhookSurvivesKill9 kills a real portpanel process (the faultinject
// build, as TestCrashDuringApply) between the commit of an event and the
// delivery of its webhook, restarts it on the same database, and wants
// the delivery made after the restart with the webhook-id it was queued
// with. Killed before the POST, the receiver gets it once; killed after
// the POST but before the result was recorded, it gets it again with the
// same webhook-id and body, which is how a receiver drops the duplicate.
// Everything runs in a private network namespace, the receiver on its
// loopback (hence --webhook-allow-private).
func TestWebhookSurvivesKill9(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	bin := buildFaultBinary(t)
	for _, tc := range []struct {
		point  string
		before int // requests the receiver got before the kill
	}{
		{webhook.PointSending, 0},
		{webhook.PointSent, 1},
	} {
		t.Run(tc.point, func(t *testing.T) {
			rcv, err := hooktest.Start("")
			if err != nil {
				t.Fatal(err)
			}
			defer rcv.Close()
			e := newCrashEnv(t, bin)
			e.serveArgs = []string{"--webhook-allow-private"}

			crashed := e.start("run with PORTPANEL_FAULT="+tc.point, tc.point)
			code, body, err := crashed.call(http.MethodPost, "/api/v1/webhooks", map[string]any{"url": rcv.URL, "events": []string{webhook.ChangeApplied}})
			if err != nil || code != http.StatusCreated {
				t.Fatalf("POST /api/v1/webhooks: %d %v\n%s", code, err, body)
			}
			var ep struct{ Secret string }
			if err := json.Unmarshal(body, &ep); err != nil || ep.Secret == "" {
				t.Fatalf("no secret in %s (%v)", body, err)
			}
			rcv.SetSecret(ep.Secret)
			// The change commits with its delivery; the worker, within a
			// second, reaches the fault point. The answer may or may not
			// get out first.
			crashed.call(http.MethodPost, "/api/v1/changes", map[string]any{"low": 20000, "high": 40000, "reason": "webhook crash test", "acknowledge": allHazardCodes})
			crashed.wantKilled()
			if got := rcv.Requests(); len(got) != tc.before {
				t.Fatalf("before the restart the receiver got %d requests, want %d", len(got), tc.before)
			}

			srv := e.start("restart", "")
			got, err := rcv.WaitFor(tc.before+1, crashWait)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond) // one more worker run: nothing else may come
			if n := len(rcv.Requests()); n != tc.before+1 {
				t.Errorf("the receiver got %d requests, want %d", n, tc.before+1)
			}
			last := got[len(got)-1]
			if last.Verified != nil {
				t.Errorf("the delivery after the restart: %v", last.Verified)
			}
			var b struct{ Type string }
			if err := json.Unmarshal(last.Body, &b); err != nil || b.Type != webhook.ChangeApplied {
				t.Errorf("delivered %s (%v), want a change.applied", last.Body, err)
			}
			if tc.before > 0 && (got[0].ID != last.ID || !bytes.Equal(got[0].Body, last.Body)) {
				t.Errorf("resent with id %s, body %s; first sent with id %s, body %s: want the same", last.ID, last.Body, got[0].ID, got[0].Body)
			}
			var detail struct {
				Deliveries []struct {
					WebhookID string `json:"webhook_id"`
					Status    string `json:"status"`
				} `json:"deliveries"`
			}
			deadline := time.Now().Add(crashWait)
			for {
				srv.get("/api/v1/webhooks/1", &detail)
				if len(detail.Deliveries) == 1 && detail.Deliveries[0].Status == "delivered" || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(detail.Deliveries) != 1 || detail.Deliveries[0].WebhookID != last.ID || detail.Deliveries[0].Status != "delivered" {
				t.Errorf("deliveries %+v, want one, delivered, with webhook-id %s", detail.Deliveries, last.ID)
			}
			srv.stop()
			e.verifyAudit()
		})
	}
}
