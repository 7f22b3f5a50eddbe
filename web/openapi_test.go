package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/handlers/openapitest"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

// echoParam is a path parameter as echo writes it (:id); OpenAPI writes
// {id}.
var echoParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// The document describes the route table under /api/v1, no more and no
// less, each operation with the role the table gives it: a new route
// without an operation fails here, and so does an operation left behind
// when a route goes.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sysctltest.ProcSys())
	roles := map[string]string{}
	for _, r := range web.Routes(e.h) {
		roles[r.Method+" "+r.Path] = r.Role
	}
	table := map[string]string{} // "GET /api/v1/changes/{id}" → role
	for _, r := range web.New(e.h).Routes() {
		if !strings.HasPrefix(r.Path, openapitest.Prefix) {
			continue
		}
		role, ok := roles[r.Method+" "+r.Path]
		if !ok && r.Method == http.MethodHead {
			role = roles[http.MethodGet+" "+r.Path] // web.New adds HEAD to every GET route
		}
		table[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = role
	}
	if len(table) == 0 {
		t.Fatal("the route table has no route under " + openapitest.Prefix)
	}
	documented := map[string]string{}
	for _, op := range doc.Operations() {
		documented[op.Method+" "+op.Path] = op.Role
	}
	for _, route := range sortedKeys(table) {
		role, ok := documented[route]
		switch {
		case !ok:
			t.Errorf("route %s has no operation in handlers/openapi.json", route)
		case role != table[route]:
			t.Errorf("%s: handlers/openapi.json says x-portpanel-role %q, the route table %q", route, role, table[route])
		}
	}
	for _, op := range sortedKeys(documented) {
		if _, ok := table[op]; !ok {
			t.Errorf("handlers/openapi.json describes %s, which the route table lacks", op)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The served document is the file in the repository, byte for byte, to
// anyone signed in and to nobody else.
func TestOpenAPIServedAsKept(t *testing.T) {
	want, err := os.ReadFile("../handlers/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sysctltest.ProcSys())
	for name, hdr := range map[string]http.Header{
		"session": nil,
		"token":   e.bearer(t, "reader", auth.RoleViewer),
	} {
		t.Run(name, func(t *testing.T) {
			c := e.client(t)
			if hdr == nil {
				c = e.login(t, auth.RoleViewer)
			}
			res := c.do(http.MethodGet, "/api/v1/openapi.json", hdr, nil)
			got := []byte(body(res))
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q; want 200 application/json", res.StatusCode, res.Header.Get("Content-Type"))
			}
			if !bytes.Equal(got, want) {
				t.Errorf("served document (%d bytes) differs from handlers/openapi.json (%d bytes)", len(got), len(want))
			}
		})
	}
	if res := e.client(t).get("/api/v1/openapi.json"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous GET /api/v1/openapi.json: %d, want 401", res.StatusCode)
	}
}

// The API tests' range answers have no refused write and no uncertain
// file; this one has both, so the transport holds their items to the
// document too.
func TestOpenAPIRangeWithBootProblems(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	dir := filepath.Join(e.h.Changes.Config.Root, "etc", "sysctl.d")
	e.h.Changes.File = filepath.Join(dir, "10-portpanel.conf")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"05-a.conf":         "net.ipv4.ip_local_port_range = 20000 30001\n",
		"10-portpanel.conf": "net.ipv4.ip_local_port_range = 20002 70000\n", // the kernel refuses 70000
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Over 16 MiB: portpanel does not read it, so the boot value is uncertain.
	f, err := os.Create(filepath.Join(dir, "99-big.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(17 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res := e.login(t, auth.RoleViewer).get("/api/v1/range")
	var out struct {
		Boot struct {
			Refused   []any `json:"refused"`
			Uncertain []any `json:"uncertain"`
		} `json:"boot"`
	}
	if err := json.Unmarshal([]byte(body(res)), &out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/range: %d %v", res.StatusCode, err)
	}
	if len(out.Boot.Refused) == 0 || len(out.Boot.Uncertain) == 0 {
		t.Errorf("boot.refused %v, boot.uncertain %v; want one of each, for the document to check", out.Boot.Refused, out.Boot.Uncertain)
	}
}

// No other API test sends a test event or reads an endpoint with a
// delivery; this one does, so those answers are held to the document too.
func TestOpenAPIWebhookTestAndDeliveries(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	hooked(t, e)
	admin := e.client(t)
	token := e.bearer(t, "hooks", auth.RoleAdmin)
	res := admin.postJSON("/api/v1/webhooks", `{"url":"http://127.0.0.1:9/x","events":["change.applied"],"format":"chat"}`, token.Clone())
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/webhooks: %d %s", res.StatusCode, body(res))
	}
	if res := admin.postJSON("/api/v1/webhooks/1/test", `{"reason":"does it arrive"}`, token.Clone()); res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/v1/webhooks/1/test: %d %s", res.StatusCode, body(res))
	}
	var out struct {
		Deliveries []any `json:"deliveries"`
	}
	res = admin.do(http.MethodGet, "/api/v1/webhooks/1", token.Clone(), nil)
	if err := json.Unmarshal([]byte(body(res)), &out); err != nil || len(out.Deliveries) == 0 {
		t.Errorf("GET /api/v1/webhooks/1: %d %v, %d deliveries; want the test event's", res.StatusCode, err, len(out.Deliveries))
	}
}
