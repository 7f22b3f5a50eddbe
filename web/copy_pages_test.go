package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"portpanel/change"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/handlers"
	"portpanel/handlers/throttle"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

// A panel moved to PostgreSQL with db copy shows what it showed on SQLite:
// the single-host pages render the same, byte for byte but for the one
// line that says when the audit chain was checked, and the session made
// before the move still signs its browser in (sessions are copied too).
func TestPagesAreTheSameAfterDBCopy(t *testing.T) {
	ctx := context.Background()
	procSys, root := sysctltest.FakeProcSys(t), t.TempDir()
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	serveOn := func(d *db.DB) *env {
		file := filepath.Join(root, "etc", "sysctl.conf")
		svc := &change.Service{Kernel: sysctl.Kernel{ProcSys: procSys}, Config: sysctl.Config{Root: root},
			Reader: sysctl.ReaderProcps, File: file, DB: d, Now: func() time.Time { return at }}
		setup, err := handlers.NewSetupToken()
		if err != nil {
			t.Fatal(err)
		}
		h := &handlers.Handlers{DB: d, Changes: svc, Sessions: web.NewSessions(d, web.SessionConfig{}), Setup: setup,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Host: "testhost", Now: func() time.Time { return at },
			Throttle: throttle.New(throttle.Config{Store: throttle.DBStore{DB: d}})}
		srv := httptest.NewServer(web.New(h))
		t.Cleanup(srv.Close)
		return &env{srv: srv, h: h, file: file}
	}

	lite := serveOn(dbtest.Open(t))
	c := lite.login(t, "admin")
	for _, r := range [][2]string{{"20000", "60999"}, {"32768", "60999"}} {
		res := c.post("/changes", url.Values{"low": {r[0]}, "high": {r[1]}, "reason": {"make room"}, "confirm": {"yes"}, "csrf": {c.csrf("/")}})
		if res.StatusCode >= 400 {
			t.Fatalf("change to %v: status %d\n%s", r, res.StatusCode, body(res))
		}
	}
	body(c.get("/")) // shows, so uses up, the last change's flash
	pages := []string{"/", "/changes", "/changes/1", "/audit", "/history"}
	render := func(e *env) map[string]string {
		out := map[string]string{}
		c.base = e.srv.URL // the same browser, cookies and all (the jar ignores ports)
		for _, p := range pages {
			res := c.get(p)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: status %d\n%s", p, res.StatusCode, body(res))
			}
			out[p] = checkedAt.ReplaceAllString(body(res), "in full (when)")
		}
		return out
	}
	before := render(lite)

	pg := dbtest.OpenPostgres(t)
	if _, err := db.Copy(ctx, lite.h.DB, pg); err != nil {
		t.Fatalf("copy: %v", err)
	}
	after := render(serveOn(pg))
	for _, p := range pages {
		if before[p] != after[p] {
			diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(before[p]),
				B: difflib.SplitLines(after[p]), FromFile: "sqlite", ToFile: "postgres", Context: 2})
			t.Errorf("%s renders differently after the copy:\n%s", p, diff)
		}
	}
}

// checkedAt matches the one thing two processes' audit pages may differ
// in: when each verified the chain in full (its own clock, not Now).
var checkedAt = regexp.MustCompile(`in full <span class="when"><time [^>]*>[^<]*</time> <span class="rel"[^>]*>[^<]*</span>`)
