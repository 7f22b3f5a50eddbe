package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"portpanel/db"
	"portpanel/handlers/auth"
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

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", env("PORTPANEL_DB", defaultDB), "SQLite database file (env PORTPANEL_DB)")
	role := fs.String("role", "", "viewer, operator, approver or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	if msg := auth.CheckUserName(name); msg != "" {
		return fmt.Errorf("user name %q: %s", name, msg)
	}
	if !auth.ValidRole(*role) {
		return fmt.Errorf("--role must be viewer, operator, approver or admin")
	}
	if !*fromStdin {
		// A password on the command line would land in shell history and ps.
		return fmt.Errorf("pass the password on standard input with --password-stdin")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if msg := auth.CheckNewPassword(password); msg != "" {
		return fmt.Errorf("password: %s", msg)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.CreateUser(ctx, name, *role, hash)
	if err != nil {
		return fmt.Errorf("create user %s: %w", name, err)
	}
	if _, err := d.AppendAudit(ctx, db.AuditEvent{Action: "user.created", Detail: fmt.Sprintf("user %q created with role %s from the command line", u.Name, u.Role)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s)\n", u.Name, u.Role)
	return nil
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", env("PORTPANEL_DB", defaultDB), "SQLite database file (env PORTPANEL_DB)")
	user := fs.String("user", "", "the user the token acts as")
	label := fs.String("name", "cli", "a name to recognise the token by")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.UserByName(ctx, *user)
	if err != nil {
		return fmt.Errorf("find user %q: %w", *user, err)
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	if _, err := d.CreateToken(ctx, u.ID, *label, auth.HashToken(secret)); err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	if _, err := d.AppendAudit(ctx, db.AuditEvent{User: u.Name, Action: "token.created", Detail: fmt.Sprintf("API token %q created from the command line", *label)}); err != nil {
		return err
	}
	// The secret is shown once; only its hash is stored.
	fmt.Fprintln(stdout, secret)
	return nil
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", env("PORTPANEL_DB", defaultDB), "SQLite database file (env PORTPANEL_DB)")
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
