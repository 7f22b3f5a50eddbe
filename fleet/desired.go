package fleet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// SetDesired gives host name a new generation carrying change (nil: none)
// and wakes its long poll. audit, if not nil, returns the event recorded
// in the same transaction (the caller's change event, naming the host).
// The agent acts on the newest generation only, so a change set while an
// older one is still waiting replaces it.
func (s *Service) SetDesired(ctx context.Context, name string, change *agentapi.DesiredChange, audit func(db.Host) db.AuditEvent) (db.Host, error) {
	now := s.now()
	var b []byte
	if change != nil {
		if err := CheckChange(*change); err != nil {
			return db.Host{}, err
		}
		var err error
		if b, err = json.Marshal(change); err != nil {
			return db.Host{}, fmt.Errorf("encode desired change: %w", err)
		}
	}
	h, err := s.DB.SetDesired(ctx, name, b, now, audit)
	if err != nil {
		return db.Host{}, err
	}
	s.Hub.Wake(hostKey(name))
	return h, nil
}

// CheckChange refuses a change that is not the typed operation agents
// accept: set KeyRange and/or KeyReserved, or roll back a generation.
func CheckChange(c agentapi.DesiredChange) error {
	switch c.Operation {
	case agentapi.OpSet:
		if len(c.Keys) == 0 {
			return fmt.Errorf("%w: a set operation needs keys", ErrInvalid)
		}
		for k := range c.Keys {
			if k != agentapi.KeyRange && k != agentapi.KeyReserved {
				return fmt.Errorf("%w: key %q: agents set only %s and %s", ErrInvalid, k, agentapi.KeyRange, agentapi.KeyReserved)
			}
		}
	case agentapi.OpRollback:
		if c.RollbackOf <= 0 {
			return fmt.Errorf("%w: a rollback names the generation it rolls back", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: operation %q: use %q or %q", ErrInvalid, c.Operation, agentapi.OpSet, agentapi.OpRollback)
	}
	if c.ConfirmWithin < 0 {
		return fmt.Errorf("%w: confirm_within must not be negative", ErrInvalid)
	}
	return nil
}

// Confirm confirms the commit-confirmed change of host name's generation
// gen and wakes the host's poll to tell its agent, which stops its revert
// timer. It is ErrConflict unless the host reported gen as unconfirmed.
func (s *Service) Confirm(ctx context.Context, name string, gen int64) (db.Host, error) {
	h, err := s.DB.HostByName(ctx, name)
	if err != nil {
		return db.Host{}, err
	}
	if h.Applied.Generation != gen || h.Applied.State != agentapi.ResultUnconfirmed {
		return db.Host{}, fmt.Errorf("confirm generation %d of host %q: it is not waiting for a confirmation: %w", gen, name, db.ErrConflict)
	}
	if h, err = s.DB.ConfirmGeneration(ctx, name, gen); err != nil {
		return db.Host{}, err
	}
	s.Hub.Wake(hostKey(name))
	return h, nil
}

// Desired answers agent a's long poll: at once when the host's generation
// is past after or a preview waits, else when woken (a change, a
// confirmation) or after wait (at most agentapi.MaxWait), with the state
// as it is then. A revoked host is refused, also while it waits.
func (s *Service) Desired(ctx context.Context, a Agent, after int64, wait time.Duration) (agentapi.Desired, error) {
	return s.DesiredOf(ctx, a.Host.ID, a.Host.Name, after, wait)
}

// DesiredOf is Desired for the verified host id and name alone: the
// agent API's handler calls it so that no copy of the whole Agent stays
// on the stack of each held poll.
func (s *Service) DesiredOf(ctx context.Context, id int64, name string, after int64, wait time.Duration) (agentapi.Desired, error) {
	s.init()
	wait = min(max(wait, 0), agentapi.MaxWait)
	if err := s.pacer.wait(ctx, id, s.PollFloor); err != nil {
		return agentapi.Desired{}, err
	}
	// Subscribed before the first read, so a wake-up in between is kept.
	woken, cancel := s.Hub.Subscribe(hostKey(name))
	defer cancel()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for first := true; ; first = false {
		d, ready, err := s.desired(ctx, name, id, after)
		if err != nil || ready || !first {
			return d, err
		}
		select {
		case <-woken:
		case <-timer.C:
		case <-ctx.Done():
			return agentapi.Desired{}, ctx.Err()
		}
	}
}

// PreviewAgain is how long a preview handed to an agent waits before it
// is offered again: an agent that cannot answer one (its answer refused
// as too large, say) must not find it in every poll, each answered at
// once, until the requester gives up. Within PreviewWait it is offered
// at most four times.
const PreviewAgain = 10 * time.Second

// desired reads host id's desired state; ready says whether it is news
// for an agent that has seen generation after. It reads only what the
// answer needs (db.HostPollState), and previews only when one is due.
func (s *Service) desired(ctx context.Context, name string, id, after int64) (agentapi.Desired, bool, error) {
	now := s.now()
	offer := db.PreviewOffer{Since: now.Add(-PreviewWait), Again: now.Add(-PreviewAgain)}
	h, err := s.DB.HostPollState(ctx, id, offer)
	if err != nil {
		return agentapi.Desired{}, false, err
	}
	if h.Revoked {
		return agentapi.Desired{}, false, fmt.Errorf("%w: host %q is revoked", ErrUnauthorized, name)
	}
	d := agentapi.Desired{Generation: h.Generation, Confirm: h.Confirm, PollSeconds: s.PollSeconds}
	if h.Desired != nil {
		d.Change = new(agentapi.DesiredChange)
		if err := json.Unmarshal(h.Desired, d.Change); err != nil {
			return agentapi.Desired{}, false, fmt.Errorf("host %q: decode desired change: %w", name, err)
		}
	}
	if h.PreviewDue {
		offered, err := s.DB.OfferPreviews(ctx, id, offer, now)
		if err != nil {
			return agentapi.Desired{}, false, err
		}
		for _, p := range offered {
			pr := agentapi.PreviewRequest{ID: p.ID}
			if err := json.Unmarshal(p.Keys, &pr.Keys); err != nil {
				return agentapi.Desired{}, false, fmt.Errorf("host %q: decode preview %s: %w", name, p.ID, err)
			}
			d.Previews = append(d.Previews, pr)
		}
	}
	// A pending confirmation is news too: its wake-up may have come while
	// no poll of the host was waiting, and the agent's deadline will not wait
	// a whole long poll.
	return d, h.Generation > after || len(d.Previews) > 0 || len(d.Confirm) > 0, nil
}

// RequestPreview asks host name's agent what setting keys would do there
// and waits for its answer, at most PreviewWait (or ctx), else
// ErrNoAnswer.
func (s *Service) RequestPreview(ctx context.Context, name string, keys map[string]string) (agentapi.PreviewResult, error) {
	if err := CheckChange(agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: keys}); err != nil {
		return agentapi.PreviewResult{}, err
	}
	h, err := s.DB.HostByName(ctx, name)
	if err != nil {
		return agentapi.PreviewResult{}, err
	}
	if h.RevokedAt != nil {
		return agentapi.PreviewResult{}, fmt.Errorf("preview on host %q: it is revoked: %w", name, db.ErrConflict)
	}
	id, err := s.newID()
	if err != nil {
		return agentapi.PreviewResult{}, err
	}
	kb, _ := json.Marshal(keys)
	answered, cancel := s.Hub.Subscribe(previewKey(id))
	defer cancel()
	if _, err := s.DB.AddPreview(ctx, db.HostPreview{ID: id, HostID: h.ID, Keys: kb, CreatedAt: s.now()}); err != nil {
		return agentapi.PreviewResult{}, err
	}
	s.Hub.Wake(hostKey(name))
	ctx, stop := context.WithTimeout(ctx, PreviewWait)
	defer stop()
	// The answer may reach another replica, whose wake-up may not come
	// here: the database is read again every second regardless.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		p, err := s.DB.Preview(ctx, id)
		if err == nil && p.Answer != nil {
			var res agentapi.PreviewResult
			if err := json.Unmarshal(p.Answer, &res); err != nil {
				return agentapi.PreviewResult{}, fmt.Errorf("decode preview answer of host %q: %w", name, err)
			}
			return res, nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return agentapi.PreviewResult{}, err
		}
		select {
		case <-answered:
		case <-tick.C:
		case <-ctx.Done():
			return agentapi.PreviewResult{}, fmt.Errorf("preview on host %q: %w within %s", name, ErrNoAnswer, PreviewWait)
		}
	}
}

// AnswerPreview stores agent a's answer to one of its host's previews and
// wakes whoever waits for it. A preview of another host is db.ErrNotFound.
func (s *Service) AnswerPreview(ctx context.Context, a Agent, res agentapi.PreviewResult) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode preview answer: %w", err)
	}
	if err := s.DB.AnswerPreview(ctx, a.Host.ID, res.ID, b, s.now()); err != nil {
		return err
	}
	s.Hub.Wake(previewKey(res.ID))
	return nil
}

func (s *Service) newID() (string, error) {
	s.init()
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		return "", fmt.Errorf("make preview id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
