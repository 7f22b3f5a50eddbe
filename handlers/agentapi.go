package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
)

// AgentAPI serves the agent API (/agent/v1/*) on its own listener (serve
// --agent-listen), never on the panel's: user sessions and API tokens
// mean nothing here, and agent signatures nothing there. Every request
// but enrollment is authenticated by its signature, and the host it acts
// for is the one the signature names.
type AgentAPI struct {
	Fleet *fleet.Service
	Log   *slog.Logger
}

// agentKey is where the signed middleware leaves the verified agent and
// the body it signed.
const (
	agentKey = "portpanel.agent"
	bodyKey  = "portpanel.agent.body"
)

// Echo returns the agent API's own server.
func (a *AgentAPI) Echo() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.error
	// Agents connect directly (a Unix socket or TCP with TLS): no proxy's
	// header names the client.
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(middleware.Recover())
	e.POST(agentapi.PathEnroll, a.enroll, readBody)
	e.GET(agentapi.PathDesired, a.desired, readBody, a.signed)
	e.POST(agentapi.PathReport, a.report, readBody, a.signed)
	e.POST(agentapi.PathPreview, a.preview, readBody, a.signed)
	e.POST(agentapi.PathRotate, a.rotate, readBody, a.signed)
	return e
}

var errAgentTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge,
	fmt.Sprintf("request body over %d bytes", agentapi.MaxBodyBytes))

// readBody reads the whole body, at most agentapi.MaxBodyBytes (413
// beyond), before anything else: the signature covers its bytes.
func readBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > agentapi.MaxBodyBytes {
			return errAgentTooLarge
		}
		if r.ContentLength == 0 {
			// A long poll has no body, and is held: io.ReadAll's first
			// buffer would be kept 30 s for every waiting agent.
			return next(c)
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, agentapi.MaxBodyBytes+1))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "request body could not be read").SetInternal(err)
		}
		if len(b) > agentapi.MaxBodyBytes {
			return errAgentTooLarge
		}
		c.Set(bodyKey, b)
		return next(c)
	}
}

func body(c echo.Context) []byte { b, _ := c.Get(bodyKey).([]byte); return b }

// signed authenticates the request by its signature alone.
func (a *AgentAPI) signed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.authenticate(c); err != nil {
			return err
		}
		return next(c)
	}
}

// authenticate verifies c's signature and leaves the agent in c. Not
// inlined, and so is pollArgs, to keep the frames under a held long poll
// small: the goroutine's stack shrinks from 16 kB to 8 kB at a collection
// only when less than a quarter of it is in use, and with verification's
// frame under it a waiting poll used just over that (10,000 waiting
// agents: 80 MB of stacks, twice that in the collector's goal).
//
//go:noinline
func (a *AgentAPI) authenticate(c echo.Context) error {
	ag, err := a.Fleet.Authenticate(c.Request().Context(), c.Request(), body(c))
	if err != nil {
		return err
	}
	c.Set(agentKey, ag)
	return nil
}

func agent(c echo.Context) fleet.Agent { ag, _ := c.Get(agentKey).(fleet.Agent); return ag }

// decodeAgent decodes the JSON body into v; unknown fields are allowed, so
// a newer agent still talks to an older control plane.
func decodeAgent(c echo.Context, v any) error {
	if err := json.NewDecoder(bytes.NewReader(body(c))).Decode(v); err != nil {
		return fmt.Errorf("%w: body: %w", fleet.ErrInvalid, err)
	}
	return nil
}

func (a *AgentAPI) enroll(c echo.Context) error {
	var req agentapi.EnrollRequest
	if err := decodeAgent(c, &req); err != nil {
		return err
	}
	h, err := a.Fleet.Enroll(c.Request().Context(), req, peer(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, agentapi.EnrollResponse{Name: h.Name, Group: h.Group, PollSeconds: a.Fleet.Poll()})
}

// InProcessAddr is the RemoteAddr of requests the panel's own agent
// hands to this handler in its process (serve --local-host): no
// connection has it, net/http sets RemoteAddr from the socket.
const InProcessAddr = "in-process"

// peer names where a request came from, for the audit log.
func peer(c echo.Context) string {
	if c.Request().RemoteAddr == InProcessAddr {
		return "inside the panel's process (its own host)"
	}
	if ip := c.RealIP(); ip != "" {
		return ip
	}
	return "the agent socket"
}

func (a *AgentAPI) desired(c echo.Context) error {
	after, wait, err := pollArgs(c)
	if err != nil {
		return err
	}
	id, name := agentHost(c)
	d, err := a.Fleet.DesiredOf(c.Request().Context(), id, name, after, wait)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// agentHost is the verified agent's host id and name: the poll needs no
// more, and a copy of the whole fleet.Agent would sit in the frame of
// every held poll (see authenticate).
//
//go:noinline
func agentHost(c echo.Context) (int64, string) {
	ag, _ := c.Get(agentKey).(fleet.Agent)
	return ag.Host.ID, ag.Host.Name
}

// pollArgs reads a long poll's after and wait (see authenticate for why
// it is not inlined).
//
//go:noinline
func pollArgs(c echo.Context) (after int64, wait time.Duration, err error) {
	q := c.QueryParams()
	after, err = queryInt(q.Get("after"), 0)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: after: %w", fleet.ErrInvalid, err)
	}
	w, err := queryInt(q.Get("wait"), 0)
	if err != nil || w < 0 {
		return 0, 0, fmt.Errorf("%w: wait: give seconds, 0 to %d", fleet.ErrInvalid, int(agentapi.MaxWait/time.Second))
	}
	return after, time.Duration(w) * time.Second, nil
}

func queryInt(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func (a *AgentAPI) report(c echo.Context) error {
	var rep agentapi.Report
	if err := decodeAgent(c, &rep); err != nil {
		return err
	}
	if _, err := a.Fleet.RecordReport(c.Request().Context(), agent(c), rep); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *AgentAPI) preview(c echo.Context) error {
	var res agentapi.PreviewResult
	if err := decodeAgent(c, &res); err != nil {
		return err
	}
	if err := a.Fleet.AnswerPreview(c.Request().Context(), agent(c), res); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *AgentAPI) rotate(c echo.Context) error {
	var rr agentapi.RotateRequest
	if err := decodeAgent(c, &rr); err != nil {
		return err
	}
	if _, err := a.Fleet.Rotate(c.Request().Context(), agent(c), c.Request(), rr); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// error answers every agent API error as JSON. A refusal tells the agent
// no more than "unauthorized"; the reason goes to the server's log.
func (a *AgentAPI) error(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := agentStatus(err)
	r := c.Request()
	switch {
	case status == http.StatusInternalServerError:
		a.Log.Error("agent request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case status == http.StatusUnauthorized:
		a.Log.Warn("agent request refused", "path", r.URL.Path, "remote", peer(c), "reason", err.Error())
	}
	if tm := (*fleet.TooManyError)(nil); errors.As(err, &tm) {
		// Whole seconds, rounded up: 0 would invite the busy retry the
		// limit is there to stop.
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int((tm.RetryAfter+time.Second-1)/time.Second))))
	}
	if err := c.JSON(status, map[string]string{"error": msg}); err != nil {
		a.Log.Error("write agent error response", "err", err)
	}
}

func agentStatus(err error) (int, string) {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		if msg, ok := he.Message.(string); ok {
			return he.Code, msg
		}
		return he.Code, http.StatusText(he.Code)
	case errors.Is(err, fleet.ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, fleet.ErrInvalid):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, fleet.ErrTooMany):
		return http.StatusTooManyRequests, "too many reports; slow down"
	case errors.Is(err, db.ErrConflict):
		return http.StatusConflict, "conflict: " + err.Error()
	case errors.Is(err, db.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, context.Canceled):
		return 499, "client went away"
	case db.IsUnavailable(err):
		return http.StatusServiceUnavailable, "database unavailable; retry"
	}
	return http.StatusInternalServerError, "internal error"
}
