package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"portpanel/db"
)

const defaultDB = "/var/lib/portpanel/portpanel.db"

// parseWithName parses args where one positional NAME may come before or
// after the flags (flag stops at the first non-flag).
func parseWithName(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return "", nil
	}
	name := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return name, nil
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o := adminFlags("audit verify", stderr)
	dbPath := o.db
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := d.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit log does not verify: %w", err)
	}
	fmt.Fprintf(stdout, "audit log verified: %d events, hash chain intact\n", n)
	return nil
}

// version prints what this binary was built from: the module version, the
// commit, its time and whether the tree had uncommitted changes (stamped by
// go build from git), and the Go release.
func version(stdout io.Writer) error {
	bi, _ := debug.ReadBuildInfo() // nil without build information
	_, err := io.WriteString(stdout, versionText(bi))
	return err
}

// versionText formats bi, which is nil when the binary carries no build
// information. A binary built without VCS stamping (go test, -buildvcs=false,
// a tree outside git) says so rather than leaving the lines out.
func versionText(bi *debug.BuildInfo) string {
	mod, goVersion := "(unknown)", runtime.Version()
	vcs := map[string]string{}
	if bi != nil {
		if bi.Main.Version != "" {
			mod = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
	}
	field := func(key string) string {
		if v := vcs[key]; v != "" {
			return v
		}
		return "unknown (built without VCS information)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "portpanel %s\n", mod)
	fmt.Fprintf(&b, "revision  %s\n", field("vcs.revision"))
	fmt.Fprintf(&b, "time      %s\n", field("vcs.time"))
	fmt.Fprintf(&b, "modified  %s\n", field("vcs.modified"))
	fmt.Fprintf(&b, "go        %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
