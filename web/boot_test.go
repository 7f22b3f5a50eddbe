package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
)

// A refused write and an unreadable file are shown in the After reboot
// column, each once: the warnings card below must not repeat them, though
// the boot report words them as warnings too.
func TestDashboardSaysEachBootProblemOnce(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	dir := filepath.Join(filepath.Dir(e.file), "sysctl.d")
	for name, content := range map[string]string{
		filepath.Join(dir, "10-a.conf"):   "net.ipv4.ip_local_port_range = 20000 30001\n",
		filepath.Join(dir, "50-big.conf"): strings.Repeat("# padding\n", (16<<20)/10+1),
		// sysctl --system reads the managed /etc/sysctl.conf last; the
		// kernel refuses a high end above 65535, so 10-a.conf's value stays.
		e.file: "net.ipv4.ip_local_port_range = 20002 70000\n",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc := page(t, e.login(t, auth.RoleViewer), "/")
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="boot-value"]`).Text()), " "); got != "20000 – 30001" {
		t.Errorf("boot value %q, want 20000 – 30001 (the refused write leaves it)", got)
	}
	for _, tt := range []struct{ what, column, text string }{
		{"the refused write", "boot-refused", `"20002 70000"`},
		{"the file too large to read", "boot-uncertain", "50-big.conf is larger than 16 MiB"},
	} {
		if !strings.Contains(doc.Find(`[data-testid="`+tt.column+`"]`).Text(), tt.text) {
			t.Errorf("%s (%s) is not in the After reboot column's %s", tt.what, tt.text, tt.column)
		}
		if n := strings.Count(doc.Find("main").Text(), tt.text); n != 1 {
			t.Errorf("the page says %s (%s) %d times, want once", tt.what, tt.text, n)
		}
	}
}
