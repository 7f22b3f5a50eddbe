package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"time"

	"portpanel/change"
)

// The panel's own host (serve --local-host) is an agent like any other
// as far as the control plane knows: enrolled, signing every request with
// a key from its state directory, reporting what it observes. What
// differs is where it lives: inside the panel's process, with the panel's
// change.Service as its pipeline, so a change to the local host (from the
// dashboard or POST /api/v1/hosts/NAME/changes) is applied once, by that
// Service, and the agent only reports it. It never acts on a generation:
// the control plane sends the local host none (change routes its changes
// to the Service directly), and a generation it found would be a second
// road to the same kernel.

// InProcessServer is the server name an in-process agent's client uses:
// it names no network address, only the handler its transport calls.
const InProcessServer = "in-process"

// NewInProcess returns the agent of the panel's own host. Its state
// directory keeps the key (0600) and the enrollment, never a journal:
// svc's database is the journal. rt carries its requests to the agent
// API's handler in this process. Do not Close it: the database is the
// panel's.
func NewInProcess(cfg Config, svc *change.Service, rt http.RoundTripper) (*Agent, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.Log == nil {
		return nil, errors.New("in-process agent: no logger")
	}
	st, key, err := openKeyed(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	client := &Client{servers: []server{{raw: InProcessServer, base: "http://" + InProcessServer,
		hc: &http.Client{Transport: rt}}}}
	return &Agent{cfg: cfg, log: cfg.Log, state: st, db: svc.DB, svc: svc, client: client, key: key,
		poll: cfg.Poll, answered: map[string]bool{}, wake: make(chan struct{}, 1)}, nil
}

// openKeyed opens the state directory and the host's key in it (made on
// first use): every agent starts so, in its own process or in serve's.
func openKeyed(dir string) (*State, ed25519.PrivateKey, error) {
	st, err := OpenState(dir)
	if err != nil {
		return nil, nil, err
	}
	key, err := st.Key()
	return st, key, err
}

// SetEnrollToken gives the token Enroll spends (the panel makes one for
// its own host, once).
func (a *Agent) SetEnrollToken(token string) { a.cfg.EnrollToken = token }

// Enroll enrolls with cfg.EnrollToken when the state directory holds no
// enrollment from it, and signs as the stored enrollment from then on.
func (a *Agent) Enroll(ctx context.Context) error { return a.enroll(ctx) }

// Name is the host name the agent signs as ("" before Enroll).
func (a *Agent) Name() string {
	host, _ := a.client.identity()
	return host
}

// ReportSoon asks for a report now, as after an action: the Hosts page
// then shows a change the panel made without waiting a poll interval.
func (a *Agent) ReportSoon() { a.reportSoon() }

// RunReports reports at each poll interval, and when asked (ReportSoon),
// until ctx ends. The panel samples usage and reverts unconfirmed changes
// on its own, so this is all an in-process agent runs.
func (a *Agent) RunReports(ctx context.Context) { a.reportLoop(ctx) }
