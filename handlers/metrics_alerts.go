package handlers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"portpanel/db"
)

// The families below exist for the alert rules in contrib/prometheus.
// Moments are exported as Unix timestamps, not as ages or countdowns
// (Prometheus' instrumentation guide: "timestamps, not time since"): a
// timestamp stays right however late the scrape is evaluated, and a rule
// computes the age with time(). A moment that does not exist (no proposal
// waiting, no deadline running, no full audit check yet) is left out rather
// than exported as 0, which a rule would read as 1970.
var (
	descRiskThreshold = prometheus.NewDesc("portpanel_risk_threshold",
		"Exhaustion risk (share 0 to 1 of the ephemeral capacity) at which a destination counts as a warning or critical (--risk-warning, --risk-critical).", []string{"level"}, nil)
	descOldestProposal = prometheus.NewDesc("portpanel_oldest_proposal_timestamp_seconds",
		"Unix time the oldest change awaiting approval was proposed; absent when none waits.", nil, nil)
	descConfirmDeadline = prometheus.NewDesc("portpanel_confirm_deadline_timestamp_seconds",
		"Unix time of the nearest commit-confirmed deadline, when an unconfirmed change is reverted; absent when none runs.", nil, nil)
	descAuditBroken = prometheus.NewDesc("portpanel_audit_chain_broken",
		"1 when a check of the audit log's hash chain found an event that does not verify (see portpanel audit verify), else 0.", nil, nil)
	descAuditVerified = prometheus.NewDesc("portpanel_audit_chain_verified_timestamp_seconds",
		"Unix time the last full check of the audit log's hash chain that passed began (hourly); absent before the first.", nil, nil)
	// The syslog families exist only with --syslog.
	descSyslogSent = prometheus.NewDesc("portpanel_syslog_sent_total",
		"Audit events sent to the --syslog collector since portpanel started.", nil, nil)
	descSyslogDropped = prometheus.NewDesc("portpanel_syslog_dropped_total",
		"Audit events not sent to the --syslog collector since portpanel started: the queue was full while the collector was slow or gone, or they were still queued at stop.", nil, nil)
	descSyslogQueued = prometheus.NewDesc("portpanel_syslog_queue_length",
		"Audit events waiting in memory to be sent to the --syslog collector.", nil, nil)
)

func (pc panelCollector) describeAlerts(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRiskThreshold, descOldestProposal, descConfirmDeadline, descAuditBroken, descAuditVerified,
		descSyslogSent, descSyslogDropped, descSyslogQueued} {
		ch <- d
	}
}

func (pc panelCollector) collectAlerts(ctx context.Context, ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descRiskThreshold, prometheus.GaugeValue, pc.h.Risk.Warning, "warning")
	ch <- prometheus.MustNewConstMetric(descRiskThreshold, prometheus.GaugeValue, pc.h.Risk.Critical, "critical")

	// Proposals and running deadlines are few (a partial index holds the
	// deadlines), so listing them costs about what counting would.
	proposed, err := pc.h.memo.metrics.proposed.Get(ctx, pc.h.DB, struct{}{}, func(ctx context.Context) ([]db.Change, error) {
		return pc.h.DB.ChangesByStatus(ctx, db.StatusProposed)
	})
	if err != nil {
		pc.fail(ch, err, descOldestProposal)
	} else if len(proposed) > 0 {
		ch <- gauge(descOldestProposal, unixSeconds(proposed[0].CreatedAt)) // oldest first
	}
	if awaiting, err := pc.h.memo.metrics.awaiting.Get(ctx, pc.h.DB, struct{}{}, pc.h.DB.AwaitingConfirmation); err != nil {
		pc.fail(ch, err, descConfirmDeadline)
	} else if len(awaiting) > 0 && awaiting[0].ConfirmBy != nil {
		ch <- gauge(descConfirmDeadline, unixSeconds(*awaiting[0].ConfirmBy)) // nearest first
	}

	// What the background checks found; a scrape reads nothing of the
	// log itself (a full check takes seconds at a million events).
	ch <- gauge(descAuditBroken, flag(pc.h.DB.ChainBroken() != nil))
	if st := pc.h.DB.ChainChecked(); !st.FullAt.IsZero() {
		ch <- gauge(descAuditVerified, unixSeconds(st.FullAt))
	}

	if f := pc.h.Syslog; f != nil {
		ch <- prometheus.MustNewConstMetric(descSyslogSent, prometheus.CounterValue, float64(f.Sent()))
		ch <- prometheus.MustNewConstMetric(descSyslogDropped, prometheus.CounterValue, float64(f.Dropped()))
		ch <- gauge(descSyslogQueued, float64(f.Queued()))
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
