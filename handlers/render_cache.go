package handlers

import (
	"context"
	"sync"

	"portpanel/db"
	"portpanel/views"
)

// renderCache keeps parts of pages rendered for earlier requests: each
// for the database version it was rendered at (db.Version: any commit of
// any process makes it stale) and a time bucket the caller picks from what
// the part shows of the clock. Rendering /history's charts costs
// milliseconds of CPU, and under bench/run.sh's 200-client mix those
// renders were what kept every route's p99 over 100 ms (BENCHMARKS.md,
// "Tricks that stay"). The zero value is ready.
type renderCache[K comparable] struct {
	mu      sync.Mutex
	version db.Version
	entries map[K]renderedPart
}

type renderedPart struct {
	bucket int64
	html   views.Prerendered
}

// renderCacheMax bounds a cache's keys between commits, against keys a
// client chooses (a cursor, say); a time bucket replaces its key's part.
const renderCacheMax = 64

// get returns key's part as rendered at the database's version (as of
// the request's snapshot, see db.WithSnapshot) within bucket, else
// renders it. Renders pass through g, so a burst of requests after a
// commit renders a part GOMAXPROCS times at most instead of once each:
// one that waited for its place takes what the one before it rendered.
// What render reads is read after the version, so what is kept is at
// least as new as the version it is kept for.
func (rc *renderCache[K]) get(ctx context.Context, d *db.DB, g *gate, key K, bucket int64,
	render func(context.Context) (views.Prerendered, error)) (views.Prerendered, error) {
	v, err := d.Version(ctx)
	if err != nil {
		return views.Prerendered{}, err
	}
	if p, ok := rc.lookup(v, key, bucket); ok {
		return p, nil
	}
	if err := g.enter(ctx); err != nil {
		return views.Prerendered{}, err
	}
	defer g.leave()
	if p, ok := rc.lookup(v, key, bucket); ok {
		return p, nil
	}
	p, err := render(ctx)
	if err != nil {
		return p, err
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.version != v || rc.entries == nil || len(rc.entries) >= renderCacheMax {
		rc.version, rc.entries = v, make(map[K]renderedPart)
	}
	rc.entries[key] = renderedPart{bucket: bucket, html: p}
	return p, nil
}

func (rc *renderCache[K]) lookup(v db.Version, key K, bucket int64) (views.Prerendered, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.version != v {
		return views.Prerendered{}, false
	}
	e, ok := rc.entries[key]
	return e.html, ok && e.bucket == bucket
}
