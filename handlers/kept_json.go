package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"
)

// keptJSON answers an API read whose answer depends only on the database
// and the query (route and query string, ?pretty included): encoded once
// per database version by echo's c.JSON, as every answer is, and sent
// again as those bytes until something is committed (versionCache).
func (h *Handlers) keptJSON(c echo.Context, load func(context.Context) (any, error)) error {
	b, err := keep(h, c, &h.memo.apiJSON, c.Path()+"?"+c.QueryString(), 0, func(ctx context.Context) ([]byte, error) {
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return encodeJSON(c, v)
	})
	if err != nil {
		return err
	}
	return sendJSON(c, b)
}

// encodeJSON is what c.JSON(http.StatusOK, v) would send.
func encodeJSON(c echo.Context, v any) ([]byte, error) {
	var w bufferedResponse
	if err := c.Echo().NewContext(c.Request(), &w).JSON(http.StatusOK, v); err != nil {
		return nil, err
	}
	return w.body.Bytes(), nil
}

// sendJSON answers with b, JSON encodeJSON made.
func sendJSON(c echo.Context, b []byte) error {
	c.Response().Header()[echo.HeaderContentLength] = []string{strconv.Itoa(len(b))}
	return c.JSONBlob(http.StatusOK, b)
}

// answersByQuery keeps, for each query string, the latest answer of a
// read that depends on the query and on a state S (compared whole) and
// nothing else, so a read whose state did not change sends the same bytes
// without encoding them again.
type answersByQuery[S comparable] struct {
	mu sync.Mutex
	m  map[string]stateAnswer[S]
}

type stateAnswer[S comparable] struct {
	state S
	b     []byte
}

func (a *answersByQuery[S]) get(query string, state S) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.m[query]
	return e.b, ok && e.state == state
}

func (a *answersByQuery[S]) put(query string, state S, b []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil || len(a.m) >= versionCacheMax {
		a.m = make(map[string]stateAnswer[S])
	}
	a.m[query] = stateAnswer[S]{state, b}
}

// bufferedResponse keeps what a handler writes.
type bufferedResponse struct {
	header http.Header
	body   bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *bufferedResponse) Write(b []byte) (int, error) { return w.body.Write(b) }

func (w *bufferedResponse) WriteHeader(int) {}
