package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/sysctl/usage"
)

// APIUsage is GET /api/v1/usage: the sampler's latest usage snapshot, as
// stored (never a scan per request); null fields before the first sample.
func (h *Handlers) APIUsage(c echo.Context) error {
	return h.keptJSON(c, func(ctx context.Context) (any, error) {
		u, err := h.DB.LatestUsage(ctx)
		if errors.Is(err, db.ErrNotFound) {
			return map[string]any{"at": nil, "busiest": nil, "destinations": []any{},
				"message": "No usage sample yet: the sampler takes one at start and then every --sample-interval."}, nil
		} else if err != nil {
			return nil, err
		}
		return h.usageJSON(u), nil
	})
}

type destinationJSON struct {
	LocalIP     string  `json:"local_ip"`
	Destination string  `json:"destination"`
	Sockets     int     `json:"sockets"`
	Risk        float64 `json:"risk"`
	Level       string  `json:"level"`
}

func (h *Handlers) usageJSON(u db.UsageSample) map[string]any {
	dests := make([]destinationJSON, 0, len(u.Destinations))
	for _, d := range u.Destinations {
		dests = append(dests, destinationJSON{d.LocalIP, d.Destination, d.Sockets, d.Risk, h.Risk.Level(d.Risk)})
	}
	var busiest any
	if len(dests) > 0 {
		busiest = dests[0]
	}
	tcp := u.TCPStates
	if tcp == nil {
		tcp = map[string]int{}
	}
	return map[string]any{
		"at": u.At.UTC().Format(time.RFC3339Nano), "source": u.Source,
		"range": rangeJSON{u.RangeLow, u.RangeHigh}, "capacity": u.Capacity,
		"tcp": tcp, "udp": u.UDP, "bound": u.Bound, "in_range": u.InUse,
		"destinations": dests, "busiest": busiest, "shared_use": u.SharedUse,
		// Every port a connection used stays in TIME_WAIT for 60 s.
		"rate_per_second": float64(u.Capacity) / usage.TimeWaitSeconds,
		"thresholds":      map[string]float64{"warning": h.Risk.Warning, "critical": h.Risk.Critical},
		"level":           h.Risk.Level(u.BusiestRisk),
	}
}
