package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// readyTimeout bounds the checks, so a probe never hangs on a locked
// database longer than a load balancer waits.
const readyTimeout = 2 * time.Second

// Readyz answers 200 without login when portpanel can do its work: the
// database answers and the kernel's port range can be read. Otherwise 503,
// with each failed check's message (a path at most, never a secret), for
// load balancers and systemd. Healthz only says the process serves HTTP.
func (h *Handlers) Readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	checks := map[string]string{"database": "ok", "kernel": "ok"}
	ready := true
	if err := h.DB.Ping(ctx); err != nil {
		checks["database"], ready = err.Error(), false
	}
	if _, err := h.Changes.Kernel.ReadRange(); err != nil {
		checks["kernel"], ready = err.Error(), false
	}
	if !ready {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "not ready", "checks": checks})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}
