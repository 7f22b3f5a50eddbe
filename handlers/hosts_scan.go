package handlers

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
)

// hostScanFor is how long one read of the hosts serves the Hosts list,
// its API and /metrics while agents keep the database changing: at
// 10,000 hosts reporting every 30 s (333 commits a second) the database
// never holds still, and reading and decoding every host took 130 ms to
// 900 ms a request on SQLite. States are still computed at each request,
// so a host turns stale on time; what may be up to this old is what the
// reports said.
const hostScanFor = time.Second

// hostScan keeps a read of every host, kept current by reading only the
// hosts that changed since (db.HostsChangedSince), with a full read every
// hostScanFull; each host's documents are decoded once per report. The
// zero value is ready.
type hostScan struct {
	mu      sync.Mutex // held while reading: one read at a time, shared by the requests that wait
	version db.Version
	at      time.Time // when the last read began
	full    time.Time // when the last full read began
	// rows and docs (rows' documents, in their order) are replaced by a
	// read, never changed in place: requests iterate over them unlocked.
	rows  []db.Host
	docs  []decodedHost
	index map[string]int // name → position in rows
}

// A full read of every host runs at least this often, whatever the
// reads of what changed found; and those ask for changes from this much
// before the last read began, for clocks of other replicas and commits
// that were in flight then (at 333 reports a second, each second of
// margin is 333 more rows a read: 10 s made reads of 3,600 rows).
const (
	hostScanFull   = time.Minute
	hostScanMargin = 2 * time.Second
)

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
// again unless the last read is of the database's current version or
// younger than hostScanFor. What it returns is shared: read-only.
func (s *hostScan) read(ctx context.Context, d *db.DB, now time.Time) ([]db.Host, []decodedHost, error) {
	v, err := d.Version(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// v covers the hosts only where it moves with every table (SQLite);
	// PostgreSQL's leaves the fleet's tables out (db.Version.AllTables).
	if s.rows != nil && ((v.AllTables() && s.version == v) || now.Sub(s.at) < hostScanFor) {
		return s.rows, s.docs, nil
	}
	full := s.rows == nil || now.Sub(s.full) >= hostScanFull
	var changed []db.Host
	if full {
		changed, err = allHosts(ctx, d)
	} else {
		changed, err = d.HostsChangedSince(ctx, s.at.Add(-hostScanMargin))
	}
	if err != nil {
		return nil, nil, err
	}
	rows, docs, err := s.merge(changed, full, now)
	if err != nil {
		return nil, nil, err
	}
	s.version, s.at, s.rows, s.docs = v, now, rows, docs
	if full {
		s.full = now
	}
	return rows, docs, nil
}

// allHosts reads every host by name, hostScanPage at a time.
func allHosts(ctx context.Context, d *db.DB) ([]db.Host, error) {
	var rows []db.Host
	for from := ""; ; {
		list, err := d.Hosts(ctx, db.HostQuery{After: from, Limit: hostScanPage})
		if err != nil {
			return nil, err
		}
		rows = append(rows, list...)
		if len(list) < hostScanPage {
			return rows, nil
		}
		from = list[len(list)-1].Name
	}
}

// merge makes the new read: changed (every host, when full) over the
// last read, each host's documents decoded again only when its report or
// desired state is not the one decoded before.
func (s *hostScan) merge(changed []db.Host, full bool, now time.Time) ([]db.Host, []decodedHost, error) {
	var rows []db.Host
	var docs []decodedHost
	if !full {
		rows, docs = slices.Clone(s.rows), slices.Clone(s.docs)
	}
	added := false
	for _, row := range changed {
		i, known := s.index[row.Name]
		dh := decodedHost{}
		if known {
			dh = s.docs[i]
		}
		if !known || !dh.matches(row) {
			fv, err := fleet.NewView(row, now)
			if err != nil {
				return nil, nil, err
			}
			dh = decodedHost{reported: timeOrZero(row.ReportedAt), desired: timeOrZero(row.DesiredAt), generation: row.Generation,
				observed: fv.Observed, change: fv.Change}
		}
		switch {
		case full:
			rows, docs = append(rows, row), append(docs, dh)
		case known:
			rows[i], docs[i] = row, dh
		default:
			rows, docs, added = append(rows, row), append(docs, dh), true
		}
	}
	if added {
		order := make([]int, len(rows))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(rows[a].Name, rows[b].Name) })
		sortedRows, sortedDocs := make([]db.Host, len(rows)), make([]decodedHost, len(rows))
		for to, from := range order {
			sortedRows[to], sortedDocs[to] = rows[from], docs[from]
		}
		rows, docs = sortedRows, sortedDocs
	}
	if full || added {
		s.index = make(map[string]int, len(rows))
		for i, row := range rows {
			s.index[row.Name] = i
		}
	}
	return rows, docs, nil
}
