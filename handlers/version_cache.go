package handlers

import (
	"context"
	"sync"

	"github.com/labstack/echo/v4"

	"portpanel/db"
)

// versionCache keeps what a read rendered for earlier requests (a part of
// a page, an API answer): each value for the database version it was
// rendered at (db.Version: any commit of any process makes it stale) and
// a time bucket the caller picks from what the value shows of the clock
// (0 when nothing). Rendering /history's charts costs milliseconds of CPU,
// a list page or answer most of one, and under bench/run.sh's 200-client
// mix those renders were what kept the routes' p99 over 100 ms
// (BENCHMARKS.md, "Tricks that stay"). The zero value is ready.
type versionCache[K comparable, V any] struct {
	mu      sync.Mutex
	version db.Version
	entries map[K]keptValue[V]
}

type keptValue[V any] struct {
	bucket int64
	value  V
}

// versionCacheMax bounds a cache's keys between commits, against keys a
// client chooses (a cursor, say); a time bucket replaces its key's value.
const versionCacheMax = 64

// get returns key's value as rendered at the database's version (as of
// the request's snapshot, see db.WithSnapshot) within bucket, else
// renders it. Renders pass through g, so a burst of requests after a
// commit renders a value GOMAXPROCS times at most instead of once each:
// one that waited for its place takes what the one before it rendered.
// What render reads is read after the version, so what is kept is at
// least as new as the version it is kept for.
func (vc *versionCache[K, V]) get(ctx context.Context, d *db.DB, g *gate, key K, bucket int64,
	render func(context.Context) (V, error)) (V, error) {
	v, err := d.Version(ctx)
	if err != nil {
		var zero V
		return zero, err
	}
	if val, ok := vc.lookup(v, key, bucket); ok {
		return val, nil
	}
	if err := g.enter(ctx); err != nil {
		var zero V
		return zero, err
	}
	defer g.leave()
	if val, ok := vc.lookup(v, key, bucket); ok {
		return val, nil
	}
	val, err := render(ctx)
	if err != nil {
		return val, err
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.version != v || vc.entries == nil || len(vc.entries) >= versionCacheMax {
		vc.version, vc.entries = v, make(map[K]keptValue[V])
	}
	vc.entries[key] = keptValue[V]{bucket: bucket, value: val}
	return val, nil
}

func (vc *versionCache[K, V]) lookup(v db.Version, key K, bucket int64) (V, bool) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.version != v {
		var zero V
		return zero, false
	}
	e, ok := vc.entries[key]
	return e.value, ok && e.bucket == bucket
}

// maxKeptQuery is the longest query string whose answers are kept: a
// longer one is rendered afresh, so clients cannot fill the caches with
// long keys.
const maxKeptQuery = 256

// keep is vc.get for the request c, through the handlers' render gate.
func keep[K comparable, V any](h *Handlers, c echo.Context, vc *versionCache[K, V], key K, bucket int64,
	render func(context.Context) (V, error)) (V, error) {
	ctx := c.Request().Context()
	if len(c.QueryString()) > maxKeptQuery {
		return render(ctx)
	}
	return vc.get(ctx, h.DB, &h.memo.renders, key, bucket, render)
}
