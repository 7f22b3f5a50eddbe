package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

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
		var w bufferedResponse
		if err := c.Echo().NewContext(c.Request(), &w).JSON(http.StatusOK, v); err != nil {
			return nil, err
		}
		return w.body.Bytes(), nil
	})
	if err != nil {
		return err
	}
	c.Response().Header()[echo.HeaderContentLength] = []string{strconv.Itoa(len(b))}
	return c.JSONBlob(http.StatusOK, b)
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
