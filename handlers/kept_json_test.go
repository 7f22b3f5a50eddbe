package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"portpanel/db/dbtest"
)

// A kept answer is what c.JSON sends, body and type, pretty or not, from
// the first request and from the kept bytes.
func TestKeptJSONIsWhatJSONSends(t *testing.T) {
	h := &Handlers{DB: dbtest.Open(t)}
	answer := map[string]any{"changes": []map[string]any{{"id": 1, "reason": "<b>&", "at": nil}}}
	e := echo.New()
	e.GET("/plain", func(c echo.Context) error { return c.JSON(http.StatusOK, answer) })
	e.GET("/kept", func(c echo.Context) error {
		return h.keptJSON(c, func(context.Context) (any, error) { return answer, nil })
	})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	for _, q := range []string{"", "?pretty"} {
		want := get("/plain" + q)
		for range 2 {
			got := get("/kept" + q)
			if got.Body.String() != want.Body.String() || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
				t.Errorf("kept%s: %q %q, want %q %q", q, got.Header().Get("Content-Type"), got.Body, want.Header().Get("Content-Type"), want.Body)
			}
		}
	}
}
