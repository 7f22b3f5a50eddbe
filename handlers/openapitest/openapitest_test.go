package openapitest

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// The transport must catch each way a server and the document can
// disagree, against a stand-in server that answers what the case says.
func TestTransportReportsDisagreements(t *testing.T) {
	bearer := http.Header{"Authorization": {"Bearer pp_x"}, "Content-Type": {"application/json"}}
	tests := []struct {
		name         string
		method, path string
		hdr          http.Header
		body         string
		status       int
		answer       string
		contentType  string
		want         string // in the report; "" for none
	}{
		{name: "a documented answer", method: "GET", path: "/api/v1/changes", hdr: bearer,
			status: 200, answer: `{"changes":[]}`},
		{name: "a field the schema lacks", method: "GET", path: "/api/v1/changes", hdr: bearer,
			status: 200, answer: `{"changes":[],"next":5}`, want: "does not describe"},
		{name: "a status the operation does not list", method: "GET", path: "/api/v1/changes", hdr: bearer,
			status: http.StatusTeapot, answer: `{"error":"x"}`, want: "status is not supported"},
		{name: "a wrong content type", method: "GET", path: "/api/v1/changes", hdr: bearer,
			status: 200, answer: `changes`, contentType: "text/html", want: "does not describe"},
		{name: "a refused body, refused", method: "POST", path: "/api/v1/changes", hdr: bearer, body: `{"low":"x","high":2}`,
			status: 400, answer: `{"error":"Malformed JSON."}`},
		{name: "a refused body, accepted", method: "POST", path: "/api/v1/changes", hdr: bearer, body: `{"low":"x","high":2}`,
			status: 200, answer: `{"error":"x"}`, want: "refuses the request"},
		{name: "no credential, accepted", method: "GET", path: "/api/v1/changes",
			status: 200, answer: `{"changes":[]}`, want: "refuses the request"},
		{name: "no credential, refused", method: "GET", path: "/api/v1/changes",
			status: 401, answer: `{"error":"Sign in or send an API token."}`},
		{name: "an unknown operation, not found", method: "GET", path: "/api/v1/nothing", hdr: bearer,
			status: 404, answer: `{"error":"Not found."}`},
		{name: "an unknown operation, answered", method: "DELETE", path: "/api/v1/changes", hdr: bearer,
			status: 200, answer: `{}`, want: "no such operation"},
		{name: "HEAD with a status the document lists", method: "HEAD", path: "/api/v1/range", hdr: bearer, status: 200},
		{name: "HEAD with a status it does not list", method: "HEAD", path: "/api/v1/range", hdr: bearer,
			status: http.StatusConflict, want: "does not list"},
		{name: "outside /api/v1: not checked", method: "GET", path: "/changes", status: 200, answer: `<p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", cmp.Or(tt.contentType, "application/json"))
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.answer)
			}))
			defer srv.Close()
			rec := &recorder{TB: t}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body == "" {
				req.Body = http.NoBody
			}
			for k, v := range tt.hdr {
				req.Header[k] = v
			}
			res, err := (&http.Client{Transport: Transport(rec, nil)}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := strings.Join(rec.errors, "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("reported, want nothing:\n%s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("reported %q, want it to say %q", got, tt.want)
			}
		})
	}
}
