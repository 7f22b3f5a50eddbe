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

// syslogReader is the forwarder's reading job, once across replicas: the
// replica that runs it sends every replica's events, from where the last
// one to run it got (the job's cursor), so a collector fed by several
// replicas gets each event once.
const syslogReader = "read audit events for syslog"

// syslogJobs are the forwarder's background loops: read the log, and say
// what went wrong since the last report (drops, a collector that refuses;
// this process's, so on every replica).
func syslogJobs(f *auditlog.Forwarder, d *db.DB) []loop {
	if f == nil {
		return nil
	}
	return []loop{
		{name: syslogReader, first: 0, every: syslogPoll, once: true, run: func(ctx context.Context) error {
			read, _, err := d.JobCursor(ctx, syslogReader)
			if err != nil {
				return err
			}
			f.SkipTo(read) // what another replica sent before it stopped
			if err := f.Poll(ctx); err != nil {
				return err
			}
			if c := f.Cursor(); c > read {
				return d.AdvanceJobCursor(ctx, syslogReader, c)
			}
			return nil
		}},
		{name: "send audit events to syslog", first: syslogReport, every: syslogReport, run: func(context.Context) error { return f.Report() }},
	}
}

// stopSyslog sends what is still queued, the stop event included, for up
// to 5 seconds, and logs what could not be sent. Only the replica that
// reads for syslog (holder, or no one yet) reads the last events: another
// replica's would be sent twice, its own stop event by the reader.
func stopSyslog(f *auditlog.Forwarder, d *db.DB, holder string, log *slog.Logger) {
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, reader, err := d.JobCursor(ctx, syslogReader)
	mine := err == nil && (reader == "" || reader == holder)
	if !mine {
		if head, err := d.Audit(ctx, 1, 0); err == nil && len(head) > 0 {
			f.SkipTo(head[0].ID)
		}
	}
	if err := f.Close(ctx); err != nil {
		log.Error("send audit events to syslog", "err", err)
	}
	if mine {
		if err := d.AdvanceJobCursor(ctx, syslogReader, f.Cursor()); err != nil {
			log.Error("send audit events to syslog", "err", fmt.Errorf("at stop: %w", err))
		}
	}
	if err := f.Report(); err != nil {
		log.Error("send audit events to syslog", "err", fmt.Errorf("at stop: %w", err))
	}
}
