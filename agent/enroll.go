package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"portpanel/agentapi"
)

// enroll makes sure the agent has an enrollment and signs as it. A token
// is used when the state dir has no enrollment, or when it is not the
// token the stored enrollment came from: that is how a revoked host comes
// back, with the key it already has. A spent token passed again (left in
// the unit's environment, say) is not sent again.
func (a *Agent) enroll(ctx context.Context) error {
	e, ok, err := a.state.Enrollment()
	if err != nil {
		return err
	}
	token := a.cfg.EnrollToken
	if token == "" || (ok && e.TokenHash == tokenHash(token)) {
		if !ok {
			return notEnrolled(a.state.Dir)
		}
		a.setEnrollment(e)
		return nil
	}
	name := a.cfg.Name
	if name == "" {
		name = e.Name
	}
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			return fmt.Errorf("name this host (--name): %w", err)
		}
	}
	req := agentapi.EnrollRequest{Token: token, Name: name, Version: Version,
		PublicKey: agentapi.EncodePublicKey(a.key.Public().(ed25519.PublicKey))}
	for failures := 1; ; failures++ {
		resp, err := a.client.Enroll(ctx, req)
		var se *StatusError
		switch {
		case err == nil:
			e = Enrollment{Name: resp.Name, Group: resp.Group, PollSeconds: resp.PollSeconds, Servers: a.cfg.Servers,
				At: time.Now().UTC(), TokenHash: tokenHash(token)}
			if err := a.state.SaveEnrollment(e); err != nil {
				return err
			}
			a.log.Info("enrolled", "host", e.Name, "group", e.Group, "server", a.client.Current())
			a.setEnrollment(e)
			return nil
		case errors.Is(err, ErrUnauthorized):
			return errors.New("the control plane refused the enrollment token: it is unknown, used, expired or revoked; ask for a new one (portpanel enroll create)")
		case errors.As(err, &se) && se.Code < 500, ctx.Err() != nil:
			return fmt.Errorf("enroll: %w", err)
		}
		wait := a.backoff(failures)
		a.log.Warn("enroll: control plane unreachable", "err", err, "retry_in", wait.Round(time.Second))
		sleep(ctx, wait)
	}
}

func (a *Agent) setEnrollment(e Enrollment) {
	a.client.SetIdentity(e.Name, a.key)
	if e.PollSeconds > 0 {
		a.setPoll(e.PollSeconds)
	}
}

func (a *Agent) setPoll(seconds int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.poll = time.Duration(seconds) * time.Second
}

// tokenHash is how the enrollment record remembers its token: enough to
// recognise it, useless to anyone who reads the file.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func notEnrolled(dir string) error {
	return fmt.Errorf("%s holds no enrollment: start the agent once with --enroll-token (portpanel enroll create on the control plane makes one)", dir)
}
