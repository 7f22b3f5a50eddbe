package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/webhook"
)

// webhookJSON is an endpoint as the API shows it: never its secret, which
// only the answer to its creation carries.
func webhookJSON(e db.Endpoint) map[string]any {
	events := e.Events
	if events == nil {
		events = []string{}
	}
	var status any
	if e.LastAttemptAt != nil {
		status = e.LastStatus
	}
	return map[string]any{"id": e.ID, "url": e.URL, "events": events, "format": e.Format, "enabled": e.Enabled,
		"created_by": e.CreatedBy, "created_at": timeJSON(&e.CreatedAt), "updated_at": timeJSON(&e.UpdatedAt),
		"last_attempt_at": timeJSON(e.LastAttemptAt), "last_status": status, "last_error": e.LastError,
		"pending": e.Pending, "dead": e.Dead, "next_try": timeJSON(e.NextTry)}
}

func deliveryJSON(d db.Delivery) map[string]any {
	var status any
	if d.LastAttemptAt != nil {
		status = d.LastStatus
	}
	return map[string]any{"id": d.ID, "webhook_id": d.MsgID, "type": d.Type, "event_id": d.AuditID, "status": d.Status,
		"attempts": d.Attempts, "created_at": timeJSON(&d.CreatedAt), "next_at": timeJSON(d.NextAt),
		"last_attempt_at": timeJSON(d.LastAttemptAt), "last_status": status, "last_error": d.LastError}
}

// fieldErrors turns the checks' messages into one 422, fields in a fixed
// order.
func fieldErrors(errs map[string]string) error {
	var msgs []string
	for _, f := range []string{"url", "events", "format", "secret"} {
		if m := errs[f]; m != "" {
			msgs = append(msgs, m)
		}
	}
	return echo.NewHTTPError(http.StatusUnprocessableEntity, strings.Join(msgs, " "))
}

// APIWebhooks lists the endpoints.
func (h *Handlers) APIWebhooks(c echo.Context) error {
	list, err := h.DB.Endpoints(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = webhookJSON(e)
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": out})
}

// APICreateWebhook adds an endpoint and answers with its secret, the only
// time the API shows it.
func (h *Handlers) APICreateWebhook(c echo.Context) error {
	var req struct {
		URL     string   `json:"url"`
		Events  []string `json:"events"`
		Format  string   `json:"format"`
		Enabled *bool    `json:"enabled"`
		Secret  string   `json:"secret"`
		Reason  string   `json:"reason"` // optional, for the audit log
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := webhook.Input{URL: req.URL, Events: req.Events, Format: req.Format, Enabled: req.Enabled == nil || *req.Enabled, Secret: req.Secret}
	ep, secret, errs, err := h.addEndpoint(c, in, req.Reason)
	if err != nil {
		return err
	}
	if errs != nil {
		return fieldErrors(errs)
	}
	out := webhookJSON(ep)
	out["secret"] = secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, out)
}

// APIWebhook shows an endpoint with its latest deliveries.
func (h *Handlers) APIWebhook(c echo.Context) error {
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	list, err := h.DB.Deliveries(c.Request().Context(), ep.ID, webhookLog)
	if err != nil {
		return err
	}
	out := webhookJSON(ep)
	deliveries := make([]map[string]any, len(list))
	for i, d := range list {
		deliveries[i] = deliveryJSON(d)
	}
	out["deliveries"] = deliveries
	return c.JSON(http.StatusOK, out)
}

// APIUpdateWebhook changes the fields given of an endpoint (PATCH).
func (h *Handlers) APIUpdateWebhook(c echo.Context) error {
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	var req struct {
		URL     *string  `json:"url"`
		Events  []string `json:"events"`
		Format  *string  `json:"format"`
		Enabled *bool    `json:"enabled"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := webhook.Input{URL: ep.URL, Events: ep.Events, Format: ep.Format, Enabled: ep.Enabled}
	if req.URL != nil {
		in.URL = *req.URL
	}
	if req.Events != nil {
		in.Events = req.Events
	}
	if req.Format != nil {
		in.Format = *req.Format
	}
	if req.Enabled != nil {
		in.Enabled = *req.Enabled
	}
	stored, errs, err := h.updateEndpoint(c, ep.ID, in)
	if err != nil {
		return err
	}
	if errs != nil {
		return fieldErrors(errs)
	}
	return c.JSON(http.StatusOK, webhookJSON(stored))
}

// APIDeleteWebhook deletes an endpoint and its waiting deliveries.
func (h *Handlers) APIDeleteWebhook(c echo.Context) error {
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	if _, err := h.deleteEndpoint(c, ep.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APITestWebhook queues a test event for one endpoint. The body is
// optional: {"reason"} goes into the audit log.
func (h *Handlers) APITestWebhook(c echo.Context) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	if err := h.testEndpoint(c, ep, req.Reason); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"queued": webhook.Test})
}
