package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl/usage"
	"portpanel/views"
)

// review shows what req would do, changing nothing; hazardMsg, when set,
// says the last submit left hazards unacknowledged (then 422).
func (h *Handlers) review(c echo.Context, form views.ChangeForm, req change.Request, hazardMsg string) error {
	pv, err := h.Changes.Preview(c.Request().Context(), req)
	if isInvalid(err) {
		return h.formErrors(c, form, err)
	} else if err != nil {
		return err
	}
	form.BaseFile = pv.FileState
	ch, err := h.chrome(c, "Review change", "dashboard")
	if err != nil {
		return err
	}
	status := http.StatusOK
	if hazardMsg != "" {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, views.Preview(views.PreviewPage{
		Chrome: ch, Form: form, Before: pv.Before, After: pv.Target, Warnings: pv.Warnings, Notes: pv.Notes,
		File: pv.File, Diff: pv.Diff, RequiresApproval: pv.RequiresApproval, Impact: pv.Impact, Risk: h.viewRisk(),
		BeforeReserved: pv.BeforeReserved, AfterReserved: pv.TargetReserved, Reserve: reserveOffer(pv),
		Hazards: pv.Hazards, Acknowledged: req.Acknowledge, HazardError: hazardMsg, Listeners: pv.Listeners, ReserveFix: pv.ReserveFix,
	}))
}

// reserveOffer is the review page's one click that reserves the listening
// ports inside the new range in the same change; nil when none needs it.
func reserveOffer(pv change.Preview) *views.ReserveOffer {
	reserved := pv.BeforeReserved
	if pv.TargetReserved != nil {
		reserved = *pv.TargetReserved
	}
	list := change.ReservedWith(pv.Listeners, reserved)
	if list == "" {
		return nil
	}
	n := 0
	for _, l := range pv.Listeners {
		if !l.Reserved {
			n++
		}
	}
	return &views.ReserveOffer{Count: n, Ports: list}
}

// formList is every value of the form field name (checkboxes), nil when
// none or when the form does not parse (the caller's FormValue reads
// report that).
func formList(c echo.Context, name string) []string {
	params, err := c.FormParams()
	if err != nil {
		return nil
	}
	return params[name]
}

// hazardError is err's refusal of an unacknowledged hazardous change, nil
// when it is none.
func hazardError(err error) *change.HazardError {
	var hz *change.HazardError
	if errors.As(err, &hz) {
		return hz
	}
	return nil
}

// approveRequest is POST /api/v1/changes/{id}/approve's optional body.
type approveRequest struct {
	Reason      string   `json:"reason"`
	Acknowledge []string `json:"acknowledge"`
}

func nonNilHazards(hs []db.Hazard) []db.Hazard {
	if hs == nil {
		return []db.Hazard{}
	}
	return hs
}

// listenerJSON is a port a service listens on inside a range.
type listenerJSON struct {
	Port    int    `json:"port"`
	Proto   string `json:"proto"`
	Process string `json:"process"`
	PID     int    `json:"pid"`
	Usually string `json:"usually"`
	// ListeningNow: the sampler's latest scan saw it; otherwise it was
	// seen within the last 7 days, last at LastSeen.
	ListeningNow bool   `json:"listening_now"`
	LastSeen     string `json:"last_seen"`
	Reserved     bool   `json:"reserved"`
}

func listenersJSON(cs []usage.Collision) []listenerJSON {
	out := make([]listenerJSON, 0, len(cs))
	for _, l := range cs {
		out = append(out, listenerJSON{Port: l.Port, Proto: l.Proto, Process: l.Process, PID: l.PID, Usually: l.Usually,
			ListeningNow: l.Now, LastSeen: l.LastSeen.UTC().Format(time.RFC3339Nano), Reserved: l.Reserved})
	}
	return out
}
