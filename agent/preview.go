package agent

import (
	"context"
	"errors"

	"portpanel/agentapi"
	"portpanel/change"
)

// maxAnswered bounds the memory of preview ids already answered.
const maxAnswered = 256

// answerPreviews answers each preview request not answered yet, through
// change.Service's Preview: the diff of the managed file as this agent
// would write it, and the hazards against this host's kernel and sockets.
func (a *Agent) answerPreviews(ctx context.Context, reqs []agentapi.PreviewRequest) bool {
	did := false
	for _, p := range reqs {
		a.mu.Lock()
		seen := a.answered[p.ID]
		a.mu.Unlock()
		if seen {
			continue
		}
		res := a.preview(ctx, p)
		if err := a.client.Preview(ctx, res); err != nil {
			a.log.Warn("answer a preview", "preview", p.ID, "err", err)
			continue
		}
		did = true
		a.mu.Lock()
		if len(a.answered) >= maxAnswered {
			clear(a.answered)
		}
		a.answered[p.ID] = true
		a.mu.Unlock()
	}
	return did
}

// preview is what request p would do here, or why it would be refused.
func (a *Agent) preview(ctx context.Context, p agentapi.PreviewRequest) agentapi.PreviewResult {
	res := agentapi.PreviewResult{ID: p.ID, File: a.svc.File}
	dc := agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: p.Keys}
	if err := checkOperation(dc); err != nil {
		res.Error = err.Error()
		return res
	}
	req, err := a.request(dc)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Reason, req.Actor = "preview for the "+ControlPlane, change.Actor{Name: ControlPlane}
	pv, err := a.svc.Preview(ctx, req)
	var inv *change.InvalidError
	switch {
	case errors.As(err, &inv) && inv.Field == "file":
		res.Uneditable = inv.Message
		return res
	case err != nil:
		res.Error = err.Error()
		return res
	}
	res.File, res.Diff, res.Warnings = pv.File, pv.Diff, append(pv.Warnings, pv.Notes...)
	for _, h := range pv.Hazards {
		res.Hazards = append(res.Hazards, agentapi.Hazard{Code: h.Code, Message: h.Message})
	}
	if a.cfg.ObserveOnly {
		res.Warnings = append(res.Warnings, "This host's agent runs with --observe-only: it will refuse the change.")
	}
	return res
}
