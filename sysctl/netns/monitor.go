package netns

import (
	"context"
	"sync"
)

// Monitor keeps the latest Scan for readers that must not scan
// themselves (pages, the API, /metrics): a scan enters every namespace
// and reads its sockets, which is the sampler's job.
type Monitor struct {
	Scanner Scanner

	scanning sync.Mutex // one scan at a time
	mu       sync.Mutex
	latest   *Scan
}

// Refresh scans and keeps the result as the latest; a failed scan keeps
// the previous one.
func (m *Monitor) Refresh(ctx context.Context) (Scan, error) {
	m.scanning.Lock()
	defer m.scanning.Unlock()
	sc, err := m.Scanner.Scan(ctx)
	if err != nil {
		return Scan{}, err
	}
	m.Set(sc)
	return sc, nil
}

// Set keeps sc as the latest scan: Refresh's result, or a test's own.
func (m *Monitor) Set(sc Scan) {
	m.mu.Lock()
	m.latest = &sc
	m.mu.Unlock()
}

// Latest is the latest scan; false before the first. The scan is shared:
// callers must not modify it.
func (m *Monitor) Latest() (Scan, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.latest == nil {
		return Scan{}, false
	}
	return *m.latest, true
}
