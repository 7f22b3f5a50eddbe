package handlers

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/views"
	"portpanel/webhook"
)

type viewsEvent = views.WebhookEvent

// ListWebhooks shows the endpoints and the form for a new one (admins).
func (h *Handlers) ListWebhooks(c echo.Context) error {
	return h.webhooksPage(c, http.StatusOK, views.WebhookForm{Format: db.FormatStandard, Events: webhook.Events})
}

func (h *Handlers) webhooksPage(c echo.Context, status int, f views.WebhookForm) error {
	list, err := h.DB.Endpoints(c.Request().Context())
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Webhooks", "webhooks")
	if err != nil {
		return err
	}
	return render(c, status, views.Webhooks(views.WebhooksPage{Chrome: ch, Endpoints: list, Events: webhookEvents(),
		Form: f, AllowPrivate: h.policy().AllowPrivate}))
}

// webhookForm reads the endpoint form.
func webhookForm(c echo.Context) (views.WebhookForm, webhook.Input, error) {
	params, err := c.FormParams()
	if err != nil {
		return views.WebhookForm{}, webhook.Input{}, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	f := views.WebhookForm{URL: strings.TrimSpace(params.Get("url")), Events: params["events"], Format: params.Get("format"),
		Enabled: params.Get("enabled") == "1"}
	return f, webhook.Input{URL: f.URL, Events: f.Events, Format: f.Format, Enabled: f.Enabled, Secret: strings.TrimSpace(params.Get("secret"))}, nil
}

// CreateWebhook adds an endpoint and shows its secret, once, on the page
// it answers with: not through a redirect, which would carry the secret
// in the session's flash.
func (h *Handlers) CreateWebhook(c echo.Context) error {
	f, in, err := webhookForm(c)
	if err != nil {
		return err
	}
	in.Enabled, f.Enabled = true, true
	ep, secret, errs, err := h.addEndpoint(c, in, "")
	if err != nil {
		return err
	}
	if errs != nil {
		f.Errors = errs
		return h.webhooksPage(c, http.StatusUnprocessableEntity, f)
	}
	ch, err := h.chrome(c, "Endpoint added", "webhooks")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusCreated, views.WebhookCreated(views.WebhookCreatedPage{Chrome: ch, Endpoint: ep, Secret: secret}))
}

// ShowWebhook shows one endpoint with its delivery log (admins).
func (h *Handlers) ShowWebhook(c echo.Context) error {
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	return h.webhookPage(c, http.StatusOK, ep, views.WebhookForm{URL: ep.URL, Events: ep.Events, Format: ep.Format, Enabled: ep.Enabled})
}

// webhookLog is how many deliveries an endpoint's page lists.
const webhookLog = 20

func (h *Handlers) webhookPage(c echo.Context, status int, ep db.Endpoint, f views.WebhookForm) error {
	list, err := h.DB.Deliveries(c.Request().Context(), ep.ID, webhookLog)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Webhook "+webhook.Redact(ep.URL), "webhooks")
	if err != nil {
		return err
	}
	return render(c, status, views.Webhook(views.WebhookPage{Chrome: ch, Endpoint: ep, Deliveries: list, Events: webhookEvents(), Form: f}))
}

// UpdateWebhook saves an endpoint's settings.
func (h *Handlers) UpdateWebhook(c echo.Context) error {
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	f, in, err := webhookForm(c)
	if err != nil {
		return err
	}
	if _, errs, err := h.updateEndpoint(c, ep.ID, in); err != nil {
		return err
	} else if errs != nil {
		f.Errors = errs
		return h.webhookPage(c, http.StatusUnprocessableEntity, ep, f)
	}
	h.flash(c, "Saved the endpoint's settings.", false)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/webhooks/%d", ep.ID))
}

// TestWebhook queues a test event for one endpoint.
func (h *Handlers) TestWebhook(c echo.Context) error {
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	if err := h.testEndpoint(c, ep, ""); err != nil {
		return err
	}
	h.flash(c, "Test event queued: it is sent within a second; its result shows below.", false)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/webhooks/%d", ep.ID))
}

// DeleteWebhook deletes an endpoint and its waiting deliveries.
func (h *Handlers) DeleteWebhook(c echo.Context) error {
	ep, err := h.endpointParam(c)
	if err != nil {
		return err
	}
	if _, err := h.deleteEndpoint(c, ep.ID); err != nil {
		return err
	}
	h.flash(c, "Deleted the endpoint "+webhook.Redact(ep.URL)+".", false)
	return c.Redirect(http.StatusSeeOther, "/webhooks")
}
