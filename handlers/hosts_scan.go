package handlers

import (
	"context"
	"sync"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
)

// hostScanFor is how long one read of every host serves the Hosts list,
// its API and /metrics while agents keep the database changing: at
// 10,000 hosts reporting every 30 s (333 commits a second) the database
// never holds still, and reading and decoding every host took 130 ms to
// 900 ms a request on SQLite. States are still computed at each request,
// so a host turns stale on time; what may be up to this old is what the
// reports said.
const hostScanFor = time.Second

// hostScan keeps the last read of every host, and each host's decoded
// documents across reads, so a read decodes only the hosts that reported
// since. The zero value is ready.
type hostScan struct {
	mu      sync.Mutex // held while reading: one read at a time, shared by the requests that wait
	version db.Version
	at      time.Time
	rows    []db.Host
	docs    []decodedHost // rows' documents, in their order
	decoded map[string]decodedHost
}

// decodedHost is a host's documents as decoded from the row they came in.
type decodedHost struct {
	reported, desired time.Time // the row's ReportedAt and DesiredAt
	generation        int64
	observed          *agentapi.Observed
	change            *agentapi.DesiredChange
}

func (d decodedHost) matches(h db.Host) bool {
	return d.reported.Equal(timeOrZero(h.ReportedAt)) && d.desired.Equal(timeOrZero(h.DesiredAt)) && d.generation == h.Generation
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// eachHost gives fn every host by name with its state at now: from a read
// of the database at most hostScanFor old (or as new as the database,
// when it has not changed since), decoded once per report.
func (h *Handlers) eachHost(ctx context.Context, fn func(hostView)) error {
	rows, decoded, err := h.memo.hosts.read(ctx, h.DB, h.Now())
	if err != nil {
		return err
	}
	now := h.Now()
	for i, row := range rows {
		d := decoded[i]
		v := fleet.View{Host: row, Observed: d.observed, Change: d.change}
		v.State, v.Reason = fleet.StateOf(row, d.change, d.observed, now)
		fn(hostView{v})
	}
	return nil
}

// read returns every host by name with its decoded documents, reading
// them again unless the last read is of the database's current version or
// younger than hostScanFor. What it returns is shared: read-only.
func (s *hostScan) read(ctx context.Context, d *db.DB, now time.Time) ([]db.Host, []decodedHost, error) {
	v, err := d.Version(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rows != nil && (s.version == v || now.Sub(s.at) < hostScanFor) {
		return s.rows, s.docs, nil
	}
	var rows []db.Host
	for from := ""; ; {
		list, err := d.Hosts(ctx, db.HostQuery{After: from, Limit: hostScanPage})
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, list...)
		if len(list) < hostScanPage {
			break
		}
		from = list[len(list)-1].Name
	}
	kept := make(map[string]decodedHost, len(rows))
	docs := make([]decodedHost, len(rows))
	for i, row := range rows {
		dh, ok := s.decoded[row.Name]
		if !ok || !dh.matches(row) {
			fv, err := fleet.NewView(row, now)
			if err != nil {
				return nil, nil, err
			}
			dh = decodedHost{reported: timeOrZero(row.ReportedAt), desired: timeOrZero(row.DesiredAt), generation: row.Generation,
				observed: fv.Observed, change: fv.Change}
		}
		kept[row.Name], docs[i] = dh, dh
	}
	s.version, s.at, s.rows, s.docs, s.decoded = v, now, rows, docs, kept
	return rows, docs, nil
}
