package web_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
)

// Drift and an overriding file are what an admin most needs to see before
// a reboot; the API must say both.
func TestRangeAPISaysWhenTheManagedFileIsOverridden(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	root := e.h.Changes.Config.Root
	dir := filepath.Join(root, "etc", "sysctl.d")
	managed := filepath.Join(dir, "10-portpanel.conf")
	e.h.Changes.File = managed
	for name, content := range map[string]string{
		managed:                          "net.ipv4.ip_local_port_range = 20000 40001\n",
		filepath.Join(dir, "99-zz.conf"): "net.ipv4.ip_local_port_range = 30000 50001\n",
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := e.login(t, auth.RoleViewer)
	res := c.get("/api/v1/range")
	var out struct {
		Drift          bool `json:"drift"`
		FileOverridden bool `json:"file_overridden"`
		OverriddenBy   *struct {
			File string `json:"file"`
			Line int    `json:"line"`
		} `json:"overridden_by"`
		Boot struct {
			Low, High     int
			File          string
			Line          int
			KernelDefault bool            `json:"kernel_default"`
			Reader        string          `json:"reader"`
			Refused       json.RawMessage `json:"refused"`
			Uncertain     json.RawMessage `json:"uncertain"`
		} `json:"boot"`
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !out.FileOverridden || out.OverriddenBy == nil || filepath.Base(out.OverriddenBy.File) != "99-zz.conf" || out.OverriddenBy.Line != 1 {
		t.Errorf("file_overridden %v, overridden_by %+v; want true, 99-zz.conf:1", out.FileOverridden, out.OverriddenBy)
	}
	// The boot value is the later file's, which the running kernel (the
	// default of a fresh namespace or this host's) does not have.
	b := out.Boot
	if b.Low != 30000 || b.High != 50001 || b.KernelDefault || filepath.Base(b.File) != "99-zz.conf" || b.Line != 1 || !out.Drift {
		t.Errorf("boot %+v, drift %v; want 30000 50001 from 99-zz.conf:1 and drift", b, out.Drift)
	}
	if b.Reader != string(e.h.Changes.Reader) || string(b.Refused) != "[]" || string(b.Uncertain) != "[]" {
		t.Errorf("boot reader %q, refused %s, uncertain %s; want %q, [] and []", b.Reader, b.Refused, b.Uncertain, e.h.Changes.Reader)
	}
}
