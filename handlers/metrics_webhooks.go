package handlers

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descWebhookAttempts = prometheus.NewDesc("portpanel_webhook_deliveries_total",
		`Webhook delivery attempts since start, by result: "delivered" (a 2xx answer), "failed" (to be retried), "dead" (given up after 24 h).`,
		[]string{"result"}, nil)
	descWebhookQueue = prometheus.NewDesc("portpanel_webhook_queue_depth",
		"Webhook deliveries waiting to be sent or retried.", nil, nil)
	descWebhookDead = prometheus.NewDesc("portpanel_webhook_dead_deliveries",
		"Webhook deliveries given up on, kept for their endpoints' pages.", nil, nil)
)

// webhookCollector reports the delivery worker's counts and the outbox's
// depth, read at scrape time.
type webhookCollector struct{ h *Handlers }

func (wc webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWebhookAttempts
	ch <- descWebhookQueue
	ch <- descWebhookDead
}

func (wc webhookCollector) Collect(ch chan<- prometheus.Metric) {
	if s := wc.h.Webhooks; s != nil && s.Stats != nil {
		for result, n := range s.Stats.Counts() {
			ch <- prometheus.MustNewConstMetric(descWebhookAttempts, prometheus.CounterValue, float64(n), result)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	counts, err := wc.h.memo.metrics.deliveries.Get(ctx, wc.h.DB, struct{}{}, wc.h.DB.DeliveryCounts)
	if err != nil {
		panelCollector(wc).fail(ch, err, descWebhookQueue, descWebhookDead)
		return
	}
	ch <- gauge(descWebhookQueue, float64(counts["pending"]))
	ch <- gauge(descWebhookDead, float64(counts["dead"]))
}
