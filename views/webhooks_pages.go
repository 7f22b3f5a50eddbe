package views

import (
	"net/url"

	"portpanel/db"
)

// WebhookForm is the endpoint form's values and its errors by field
// ("url", "events", "format", "secret").
type WebhookForm struct {
	URL     string
	Events  []string
	Format  string
	Enabled bool
	Secret  string // only on the new-endpoint form
	Errors  map[string]string
}

// WebhookEvent is an event type the form offers, with what it announces.
type WebhookEvent struct{ Type, Text string }

// WebhooksPage lists the endpoints with the form for a new one (admins).
type WebhooksPage struct {
	Chrome
	Endpoints []db.Endpoint
	Events    []WebhookEvent
	Form      WebhookForm
	// AllowPrivate says whether --webhook-allow-private is on, so the
	// form can say which URLs it accepts.
	AllowPrivate bool
}

// WebhookPage is one endpoint: its delivery log and the forms to edit,
// test or delete it.
type WebhookPage struct {
	Chrome
	Endpoint   db.Endpoint
	Deliveries []db.Delivery
	Events     []WebhookEvent
	Form       WebhookForm
}

// WebhookCreatedPage shows a new endpoint's secret, the only time it is
// ever shown.
type WebhookCreatedPage struct {
	Chrome
	Endpoint db.Endpoint
	Secret   string
}

// endpointHost is the host an endpoint's URL names, for lists and labels.
func endpointHost(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

func hasEvent(list []string, e string) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}
