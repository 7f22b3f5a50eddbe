package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portpanel/auth"
)

// The paged lists, pages and API, all keyed by ?before=ID.
var pagedLists = []string{"/changes", "/audit", "/history", "/api/v1/changes", "/api/v1/audit", "/api/v1/history"}

// A cursor that is not an id answers 400 naming the parameter, rather than
// the first page: a script paging with a broken cursor would otherwise
// read the first page again and again.
func TestMalformedCursorIsRefused(t *testing.T) {
	e := newEnv(t, "/proc/sys")
	c := e.loginAs(t, "vera", auth.RoleViewer)
	for _, path := range pagedLists {
		for _, v := range []string{"x", "-1", "0", "1.5", "1e3", " 5", "0x10", "99999999999999999999", "5;6"} {
			t.Run(path+"?before="+v, func(t *testing.T) {
				res := c.get(path + "?before=" + url.QueryEscape(v))
				msg := body(res)
				if strings.HasPrefix(path, "/api/") {
					var out struct{ Error string }
					if err := json.Unmarshal([]byte(msg), &out); err != nil {
						t.Fatalf("status %d, body %q: want a JSON error", res.StatusCode, msg)
					}
					msg = out.Error
				}
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "before") {
					t.Errorf("status %d, want 400 naming the parameter \"before\":\n%.300s", res.StatusCode, msg)
				}
			})
		}
		for _, v := range []string{"", "5", "99999"} {
			if res := c.get(path + "?before=" + v); res.StatusCode != http.StatusOK {
				t.Errorf("%s?before=%s: status %d, want 200", path, v, res.StatusCode)
			}
		}
	}
}
