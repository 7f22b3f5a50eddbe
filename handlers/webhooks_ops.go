package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/webhook"
)

// The webhook operations the pages and the API share: each writes its
// audit event in its own transaction. Audit details name an endpoint by
// id and redacted URL, never with its secret.

// policy is what endpoint URLs are checked against.
func (h *Handlers) policy() webhook.Policy {
	if h.Webhooks != nil {
		return h.Webhooks.Policy
	}
	return webhook.Policy{}
}

func endpointName(e db.Endpoint) string {
	return fmt.Sprintf("webhook endpoint #%d %s", e.ID, webhook.Redact(e.URL))
}

func endpointSettings(e db.Endpoint) string {
	state := "enabled"
	if !e.Enabled {
		state = "disabled"
	}
	return fmt.Sprintf("events %s; format %s; %s", strings.Join(e.Events, ", "), e.Format, state)
}

// addEndpoint checks in and stores it; it returns the endpoint and its
// secret, or the form's errors by field.
func (h *Handlers) addEndpoint(c echo.Context, in webhook.Input, reason string) (db.Endpoint, string, map[string]string, error) {
	ep, errs := h.policy().Check(c.Request().Context(), in)
	if errs != nil {
		return db.Endpoint{}, "", errs, nil
	}
	if ep.Secret == "" {
		ep.Secret = webhook.NewSecret()
	}
	me, _ := CurrentUser(c)
	ep.CreatedBy = me.Name
	stored, err := h.DB.AddEndpoint(c.Request().Context(), ep, func(e db.Endpoint) db.AuditEvent {
		return db.AuditEvent{User: me.Name, Action: "webhook.created", Detail: endpointName(e) + " created: " + endpointSettings(e) + because(reason)}
	})
	return stored, ep.Secret, nil, err
}

// updateEndpoint checks in and stores it over endpoint id, keeping its
// secret.
func (h *Handlers) updateEndpoint(c echo.Context, id int64, in webhook.Input) (db.Endpoint, map[string]string, error) {
	in.Secret = ""
	ep, errs := h.policy().Check(c.Request().Context(), in)
	if errs != nil {
		return db.Endpoint{}, errs, nil
	}
	ep.ID = id
	me, _ := CurrentUser(c)
	stored, err := h.DB.UpdateEndpoint(c.Request().Context(), ep, func(e db.Endpoint) db.AuditEvent {
		return db.AuditEvent{User: me.Name, Action: "webhook.updated", Detail: endpointName(e) + " updated: " + endpointSettings(e)}
	})
	return stored, nil, notFoundEndpoint(err)
}

func (h *Handlers) deleteEndpoint(c echo.Context, id int64) (db.Endpoint, error) {
	me, _ := CurrentUser(c)
	ep, err := h.DB.DeleteEndpoint(c.Request().Context(), id, func(e db.Endpoint) db.AuditEvent {
		return db.AuditEvent{User: me.Name, Action: "webhook.deleted", Detail: fmt.Sprintf("%s deleted with %d deliveries waiting", endpointName(e), e.Pending)}
	})
	return ep, notFoundEndpoint(err)
}

// testEndpoint queues a test event for endpoint ep alone.
func (h *Handlers) testEndpoint(c echo.Context, ep db.Endpoint, reason string) error {
	me, _ := CurrentUser(c)
	e := db.AuditEvent{At: h.Now().UTC(), User: me.Name, Action: "webhook.tested", Detail: endpointName(ep) + ": test event queued" + because(reason)}
	n, err := webhook.TestNotice(h.Host, e)
	if err != nil {
		return err
	}
	return notFoundEndpoint(h.DB.EnqueueTest(c.Request().Context(), ep.ID, e, n))
}

// because is an optional reason as the audit detail ends with it.
func because(reason string) string {
	if reason = strings.TrimSpace(reason); reason == "" {
		return ""
	}
	return "; reason: " + quote(reason)
}

// endpointParam loads the endpoint the path's :id names.
func (h *Handlers) endpointParam(c echo.Context) (db.Endpoint, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Endpoint{}, errNoEndpoint()
	}
	ep, err := h.DB.Endpoint(c.Request().Context(), id)
	return ep, notFoundEndpoint(err)
}

func errNoEndpoint() error {
	return echo.NewHTTPError(http.StatusNotFound, "No such webhook endpoint: it may have been deleted.")
}

func notFoundEndpoint(err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return errNoEndpoint()
	}
	return err
}

// webhookEvents are the event types the forms offer.
func webhookEvents() []viewsEvent {
	out := make([]viewsEvent, len(webhook.Events))
	for i, e := range webhook.Events {
		out[i] = viewsEvent{Type: e, Text: webhook.Describe[e]}
	}
	return out
}
