package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"
)

// rotateIfDue replaces the host's key when it is older than RotateEvery,
// or finishes a rotation a crash interrupted. The old key keeps verifying
// for the control plane's grace period, so requests in flight are not
// refused: no downtime.
func (a *Agent) rotateIfDue(ctx context.Context) {
	pending := a.state.HasNextKey()
	if !pending {
		if a.cfg.RotateEvery <= 0 {
			return
		}
		since, err := a.state.KeySince()
		if err != nil {
			a.log.Error("rotate the host key", "err", err)
			return
		}
		if time.Since(since) < a.cfg.RotateEvery {
			return
		}
	}
	next, err := a.state.NextKey()
	if err != nil {
		a.log.Error("rotate the host key", "err", err)
		return
	}
	err = a.client.Rotate(ctx, next)
	if errors.Is(err, ErrUnauthorized) && pending && a.probe(ctx, next) {
		// A rotation the control plane took before a crash: it knows
		// only the next key now.
		err = nil
	}
	if err != nil {
		a.log.Warn("rotate the host key; the current one stays", "err", err)
		return
	}
	if err := a.state.PromoteNextKey(); err != nil {
		a.log.Error("rotate the host key", "err", err)
		return
	}
	a.key = next
	a.client.SetIdentity(a.client.host, next)
	a.log.Info("rotated the host key", "host", a.client.host)
}

// probe reports whether the control plane accepts key as the host's.
func (a *Agent) probe(ctx context.Context, key ed25519.PrivateKey) bool {
	host, current := a.client.identity()
	a.client.SetIdentity(host, key)
	_, err := a.client.Desired(ctx, 0, 0)
	if err != nil {
		a.client.SetIdentity(host, current)
	}
	return err == nil
}
