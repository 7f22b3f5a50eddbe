package sysctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Hot paths of the sysctl package, for issue 6: parsing and editing a
// config file (every preview and apply), and resolving the boot value
// across a host's files (Report: change.Service.Status calls it on every
// dashboard and GET /api/v1/range).
//
//	go test -run XXX -bench . -benchmem ./sysctl/

// debianConf is a /etc/sysctl.conf the size of Debian's (68 lines, nearly
// all comments) with the range set near the end.
var debianConf = func() []byte {
	var b strings.Builder
	b.WriteString("#\n# /etc/sysctl.conf - Configuration file for setting system variables\n# See /etc/sysctl.d/ for additional system variables.\n#\n\n")
	for i := range 55 {
		b.WriteString("#net.ipv4.conf.default.setting_" + strings.Repeat("x", i%20) + " = 1\n")
	}
	b.WriteString("kernel.pid_max = 4194304\nnet.ipv4.ip_local_port_range = 32768 60999\n# end\n")
	return []byte(b.String())
}()

// benchTree is a Debian host's sysctl files under a temp root, with the
// managed drop-in portpanel writes.
func benchTree(b *testing.B) (Config, string) {
	b.Helper()
	root := b.TempDir()
	files := map[string]string{
		"/etc/sysctl.conf":                        string(debianConf),
		"/usr/lib/sysctl.d/50-pid-max.conf":       "# Bump the numeric PID range.\nkernel.pid_max = 4194304\n",
		"/usr/lib/sysctl.d/99-protect-links.conf": "fs.protected_hardlinks = 1\nfs.protected_symlinks = 1\n",
		"/usr/lib/sysctl.d/50-default.conf":       strings.Repeat("# systemd default\n", 40) + "-net.ipv4.conf.all.rp_filter\n",
		"/etc/sysctl.d/90-portpanel.conf":         "# managed by portpanel\nnet.ipv4.ip_local_port_range = 32768 60999\n",
	}
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.Symlink("../sysctl.conf", filepath.Join(root, "/etc/sysctl.d/99-sysctl.conf")); err != nil {
		b.Fatal(err)
	}
	return Config{Root: root}, filepath.Join(root, "/etc/sysctl.d/90-portpanel.conf")
}

func BenchmarkParseConfig(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(debianConf)))
	for b.Loop() {
		if found, _ := scanKey(debianConf, ReaderSystemd, rangeConf); len(found) != 1 {
			b.Fatalf("found %d assignments, want 1", len(found))
		}
	}
}

func BenchmarkEditConfig(b *testing.B) {
	without := []byte(strings.Replace(string(debianConf), "net.ipv4.ip_local_port_range = 32768 60999\n", "", 1))
	for _, bc := range []struct {
		name    string
		content []byte
	}{{"replace", debianConf}, {"append", without}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.content)))
			for b.Loop() {
				if _, _, err := EditConfig(bc.content, Range{Low: 20000, High: 60999}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanFile is an apply's file step before the write: read the
// managed file, edit it, diff it.
func BenchmarkPlanFile(b *testing.B) {
	_, managed := benchTree(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanFile(managed, Target{Range: Range{Low: 20000, High: 60999}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBoot(b *testing.B) {
	c, _ := benchTree(b)
	b.ReportAllocs()
	for b.Loop() {
		if boot, err := c.Boot(ReaderSystemd); err != nil || !boot.Set {
			b.Fatalf("boot value not found: %v", err)
		}
	}
}

// BenchmarkReport is the boot-value resolution of every Status: both
// readers' values and whether the managed file is read and not overridden.
func BenchmarkReport(b *testing.B) {
	c, managed := benchTree(b)
	b.ReportAllocs()
	for b.Loop() {
		if rep, err := c.Report(managed, ReaderSystemd); err != nil || !rep.ManagedRead {
			b.Fatalf("report: %v (managed read %t)", err, rep.ManagedRead)
		}
	}
}
