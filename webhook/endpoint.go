package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"portpanel/db"
)

// Input is an endpoint as an admin submits it, from the page or the API.
type Input struct {
	URL     string
	Events  []string
	Format  string // db.FormatStandard (also for "") or db.FormatChat
	Enabled bool
	// Secret is one the admin chose; "" makes one (a new endpoint) or
	// keeps the stored one (an update).
	Secret string
}

// Check validates in and returns the endpoint to store, or messages by
// field ("url", "events", "format", "secret") saying what to fix.
func (p Policy) Check(ctx context.Context, in Input) (db.Endpoint, map[string]string) {
	errs := map[string]string{}
	u, err := p.CheckURL(ctx, in.URL)
	if te := (*TargetError)(nil); errors.As(err, &te) {
		errs["url"] = te.Message
	} else if err != nil {
		errs["url"] = "The URL could not be checked: " + err.Error()
	}
	var events []string
	for _, e := range Events { // the catalog's order, each once
		if slices.Contains(in.Events, e) {
			events = append(events, e)
		}
	}
	for _, e := range in.Events {
		if !slices.Contains(Events, e) {
			errs["events"] = fmt.Sprintf("%q is not an event type; choose among %s.", e, strings.Join(Events, ", "))
		}
	}
	if len(events) == 0 && errs["events"] == "" {
		errs["events"] = "Choose at least one event to send."
	}
	format := in.Format
	if format == "" {
		format = db.FormatStandard
	}
	if format != db.FormatStandard && format != db.FormatChat {
		errs["format"] = "The format is standard (Standard Webhooks JSON) or chat (a Slack or Mattermost message)."
	}
	if in.Secret != "" {
		if msg := CheckSecret(in.Secret); msg != "" {
			errs["secret"] = msg
		}
	}
	if len(errs) > 0 {
		return db.Endpoint{}, errs
	}
	return db.Endpoint{URL: u, Events: events, Format: format, Enabled: in.Enabled, Secret: in.Secret}, nil
}

// Redact is an endpoint URL as logs and the audit log name it: scheme and
// host only, since a path may hold a token (chat webhooks' do).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	if u.Path == "" || u.Path == "/" {
		return u.Scheme + "://" + u.Host + "/"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
