// Package testtool finds the outside programs tests run (promtool,
// rsyslogd): a test skips, saying why, where one is missing, but fails in
// CI, where test.sh installs them, so a missing install step cannot pass
// as green. It imports nothing of portpanel.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Path returns the path of program, looked up on PATH and then in dirs
// (rsyslogd lives in /usr/sbin, which a user's PATH may lack). When it is
// missing the test is skipped, or failed when CI is set; debPackage names
// the Debian package that installs it.
func Path(t testing.TB, program, debPackage string, dirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	for _, d := range dirs {
		p := d + "/" + program
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing and CI is set: test.sh installs the Debian package %s", program, debPackage)
	}
	t.Skipf("%s is missing (install the Debian package %s); CI runs this test", program, debPackage)
	return ""
}
