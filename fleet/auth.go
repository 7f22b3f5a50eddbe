package fleet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"sync"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// Agent is an authenticated agent request: the host its signature names
// and verified, never a name from its body.
type Agent struct {
	Host   db.HostKey
	Signed agentapi.Signed
	// Current is true when the host's current key signed the request
	// (false: the previous one, in its grace period).
	Current bool
}

// Authenticate verifies the signature of agent request r with body (as
// read) against the host it names: the timestamp within
// agentapi.MaxClockSkew, the host enrolled and not revoked, the signature
// valid under its current key or its previous one during KeyGrace, the
// nonce never used by that host before. Anything else is ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, r *http.Request, body []byte) (Agent, error) {
	now := s.now()
	signed, err := agentapi.Parse(r.Header)
	if err != nil {
		return Agent{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	// The clock first: it is cheap, and a stale request should not cost
	// a database read.
	if err := signed.Fresh(now); err != nil {
		return Agent{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	k, cached := s.keys.get(signed.Host)
	if !cached {
		if k, err = s.loadKeys(ctx, signed.Host); err != nil {
			return Agent{}, err
		}
	}
	for {
		i, err := signed.Verify(r, body, now, k.verifying(now)...)
		if err != nil && cached {
			// The copy may predate a rotation: read the keys again.
			if k, err = s.loadKeys(ctx, signed.Host); err != nil {
				return Agent{}, err
			}
			cached = false
			continue
		}
		if err != nil {
			return Agent{}, fmt.Errorf("%w: host %q: %w", ErrUnauthorized, k.Name, err)
		}
		// After the signature, so only the host itself (or a replay of
		// it) is told apart as revoked, and junk never reaches the audit
		// log.
		if k.RevokedAt != nil {
			s.auditRevokedRequest(ctx, now, k.Name)
			return Agent{}, fmt.Errorf("%w: host %q is revoked", ErrUnauthorized, k.Name)
		}
		// Only a verified request spends its nonce, so junk cannot fill
		// the store nor burn a real request's nonce.
		fresh, err := s.DB.SpendNonce(ctx, k.HostKey, signed.Nonce, now)
		if err != nil {
			return Agent{}, err
		}
		if fresh {
			return Agent{Host: k.HostKey, Signed: signed, Current: i == 0}, nil
		}
		if !cached {
			return Agent{}, fmt.Errorf("%w: host %q: nonce replayed (or the host's key changed meanwhile)", ErrUnauthorized, k.Name)
		}
		// A replay, or the host was revoked or its key changed since it
		// was cached: the keys read again tell.
		if k, err = s.loadKeys(ctx, signed.Host); err != nil {
			return Agent{}, err
		}
		cached = false
	}
}

// mustKey decodes a stored key; a key that does not decode verifies
// nothing (agentapi skips keys of the wrong size).
func mustKey(s string) ed25519.PublicKey {
	k, err := agentapi.ParsePublicKey(s)
	if err != nil {
		return nil
	}
	return k
}

// refusals thins the audit of refused requests: enrollment needs no
// credential and a revoked agent retries forever, so without a bound
// anyone who reaches the agent listener could grow the append-only log
// without end. Each key (a token, "unknown tokens", a revoked host) is
// audited at most once per refusalAuditEvery; the next event says how
// many were refused meanwhile, so every refusal is still counted in the
// log (and each one is in the server's log).
type refusals struct {
	mu sync.Mutex
	m  map[string]*refusal
}

type refusal struct {
	last   time.Time
	folded int
}

const refusalAuditEvery = time.Minute

// admit says whether a refusal under key is audited now, and if so how
// many were folded since the last audited one.
func (r *refusals) admit(key string, now time.Time) (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*refusal{}
	}
	e := r.m[key]
	if e == nil {
		// Keys are bounded (tokens, hosts and one for unknown tokens),
		// but a long-running server sheds the idle ones anyway.
		if len(r.m) > 10000 {
			clear(r.m)
		}
		e = &refusal{}
		r.m[key] = e
	} else if now.Sub(e.last) < refusalAuditEvery {
		e.folded++
		return false, 0
	}
	folded := e.folded
	e.last, e.folded = now, 0
	return true, folded
}

// alsoRefused is the tail of an audited refusal that counts the ones
// folded into it.
func alsoRefused(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (and %d more refused in the minute before, logged but not audited one by one)", n)
}

func (s *Service) auditRevokedRequest(ctx context.Context, now time.Time, name string) {
	ok, folded := s.refusals.admit("host:"+name, now)
	if !ok {
		return
	}
	// Best effort: the request is refused whether or not this is written.
	s.DB.AppendAudit(ctx, db.AuditEvent{At: now, Action: "host.refused",
		Detail: fmt.Sprintf("request of revoked host %q refused", name) + alsoRefused(folded)})
}

// Rotate replaces the key of the agent a with the one rr carries, after
// checking rr's proof that the agent holds it. The request must be signed
// with the current key; the previous one keeps verifying for KeyGrace.
func (s *Service) Rotate(ctx context.Context, a Agent, r *http.Request, rr agentapi.RotateRequest) (db.Host, error) {
	now := s.now()
	if !a.Current {
		return db.Host{}, fmt.Errorf("%w: host %q: a rotation must be signed with the current key", ErrUnauthorized, a.Host.Name)
	}
	pub, err := agentapi.CheckRotation(r, a.Signed, rr)
	if err != nil {
		return db.Host{}, fmt.Errorf("%w: host %q: %w", ErrInvalid, a.Host.Name, err)
	}
	h, err := s.DB.RotateHostKey(ctx, a.Host.Name, a.Host.PublicKey, agentapi.EncodePublicKey(pub), now.Add(KeyGrace),
		func(h db.Host) db.AuditEvent {
			return db.AuditEvent{At: now, Action: "host.rotated",
				Detail: fmt.Sprintf("host %q rotated its key; the old one verifies until %s", h.Name, h.PrevKeyUntil.Format(time.RFC3339))}
		})
	if err == nil {
		// This replica drops its copy now; the others find out at the
		// next request (SpendNonce).
		s.keys.drop(h.Name)
	}
	return h, err
}

// RevokeHost revokes host name (admin by): its next request is refused,
// and only a new enrollment token brings it back. Its long poll, if one
// is waiting, is woken so it ends now.
func (s *Service) RevokeHost(ctx context.Context, by, name string) (db.Host, error) {
	now := s.now()
	h, err := s.DB.RevokeHost(ctx, name, now, func(h db.Host) db.AuditEvent {
		return db.AuditEvent{At: now, User: by, Action: "host.revoked", Detail: fmt.Sprintf("host %q revoked", h.Name)}
	})
	if err == nil {
		s.keys.drop(name)
		s.Hub.Wake(hostKey(name))
	}
	return h, err
}
