package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"portpanel/auditlog"
	"portpanel/db"
)

// How often the syslog forwarder reads new audit events (an event leaves
// within this long of its commit), and how often its trouble is logged: a
// collector gone for a day costs a log line per interval, not one per event.
const (
	syslogPoll   = time.Second
	syslogReport = time.Minute
)

// startSyslog starts sending audit events to --syslog, or returns nil when
// it is not set. It starts before anything of this process is audited, so
// crash recovery and the start event are sent too.
func startSyslog(ctx context.Context, raw string, d *db.DB, host string) (*auditlog.Forwarder, error) {
	if raw == "" {
		return nil, nil
	}
	t, err := auditlog.ParseTarget(raw) // parseServe has checked it
	if err != nil {
		return nil, err
	}
	return auditlog.New(ctx, d, t, auditlog.Options{Hostname: host})
}

// syslogJobs are the forwarder's background loops: read the log, and say
// what went wrong since the last report (drops, a collector that refuses).
func syslogJobs(f *auditlog.Forwarder) []loop {
	if f == nil {
		return nil
	}
	return []loop{
		{name: "read audit events for syslog", first: 0, every: syslogPoll, run: f.Poll},
		{name: "send audit events to syslog", first: syslogReport, every: syslogReport, run: func(context.Context) error { return f.Report() }},
	}
}

// stopSyslog sends what is still queued, the stop event included, for up
// to 5 seconds, and logs what could not be sent.
func stopSyslog(f *auditlog.Forwarder, log *slog.Logger) {
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		log.Error("send audit events to syslog", "err", err)
	}
	if err := f.Report(); err != nil {
		log.Error("send audit events to syslog", "err", fmt.Errorf("at stop: %w", err))
	}
}
