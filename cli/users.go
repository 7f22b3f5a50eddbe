package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"portpanel/auth"
	"portpanel/db"
)

// parseArgs parses args where want positional arguments may stand before,
// between or after the flags, and insists on exactly that many.
func parseArgs(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, err
		} else if err != nil {
			return nil, usageError{err.Error()} // the flag package printed the usage
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != len(want) {
		return nil, usageError{fmt.Sprintf("%s needs %s", fs.Name(), strings.Join(want, " "))}
	}
	return pos, nil
}

// openUser opens the database and finds the user called name.
func openUser(ctx context.Context, path, name string) (*db.DB, db.User, error) {
	d, err := db.Open(ctx, path)
	if err != nil {
		return nil, db.User{}, err
	}
	u, err := d.UserByName(ctx, name)
	if err != nil {
		d.Close()
		return nil, db.User{}, fmt.Errorf("find user: %w", err)
	}
	return d, u, nil
}

// cliEvent is the audit event of an account change made from the command
// line, recorded in the change's own transaction.
func cliEvent(action, detail string) db.AuditEvent {
	return db.AuditEvent{User: cliActor, Action: action, Detail: detail + " from the command line"}
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o := adminFlags("user list", stderr)
	dbPath := o.db
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	users, err := d.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tPASSWORD CHANGED")
	for _, u := range users {
		status := "active"
		switch {
		case u.Disabled:
			status = "disabled"
		case u.MustChangePassword:
			status = "must-change-password"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, status, u.PasswordChangedAt.Format("2006-01-02 15:04 UTC"))
	}
	return tw.Flush()
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, o := adminFlags("user add", stderr)
	dbPath, role, fromStdin := o.db, o.role, o.fromStdin
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	name := pos[0]
	if msg := auth.CheckUserName(name); msg != "" {
		return fmt.Errorf("user name %q: %s", name, msg)
	}
	if !auth.ValidRole(*role) {
		return fmt.Errorf("--role must be viewer, operator, approver or admin")
	}
	password, err := readPassword(stdin, *fromStdin, name)
	if err != nil {
		return err
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
	u, err := d.CreateUser(ctx, name, *role, hash, func(u db.User) db.AuditEvent {
		return cliEvent("user.created", fmt.Sprintf("user %q created with role %s", u.Name, u.Role))
	})
	if err != nil {
		return fmt.Errorf("create user %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "created user %s (%s)\n", u.Name, u.Role)
	return nil
}

// readPassword reads a new password for the user called name from the
// first line of stdin; a password on the command line would land in shell
// history and ps.
func readPassword(stdin io.Reader, fromStdin bool, name string) (string, error) {
	if !fromStdin {
		return "", fmt.Errorf("pass the password on standard input with --password-stdin")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if msg := auth.CheckPasswordFor(name, password); msg != "" {
		return "", fmt.Errorf("password: %s", msg)
	}
	return password, nil
}

func userSetDisabled(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs, o := adminFlags("user "+verb, stderr)
	dbPath := o.db
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	d, u, err := openUser(ctx, *dbPath, pos[0])
	if err != nil {
		return err
	}
	defer d.Close()
	disable := verb == "disable"
	event := cliEvent("user.enabled", fmt.Sprintf("user %q enabled", u.Name))
	if disable {
		event = cliEvent("user.disabled", fmt.Sprintf("user %q disabled; sessions ended, API tokens stopped", u.Name))
	}
	if u, err = d.SetDisabled(ctx, u.ID, disable, func(db.User, db.User) db.AuditEvent { return event }); err != nil {
		return err
	}
	if disable {
		fmt.Fprintf(stdout, "disabled user %s: sessions ended, API tokens stopped\n", u.Name)
		return nil
	}
	fmt.Fprintf(stdout, "enabled user %s\n", u.Name)
	return nil
}

func userSetRole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o := adminFlags("user set-role", stderr)
	dbPath := o.db
	pos, err := parseArgs(fs, args, "NAME", "ROLE")
	if err != nil {
		return err
	}
	role := pos[1]
	if !auth.ValidRole(role) {
		return fmt.Errorf("role %q: use viewer, operator, approver or admin", role)
	}
	d, u, err := openUser(ctx, *dbPath, pos[0])
	if err != nil {
		return err
	}
	defer d.Close()
	u, old, err := d.SetRole(ctx, u.ID, role, func(before, after db.User) db.AuditEvent {
		return cliEvent("user.role_changed", fmt.Sprintf("user %q: role %s → %s", after.Name, before.Role, after.Role))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s: role %s → %s\n", u.Name, old, role)
	return nil
}

// userPasswd sets a password without forcing a change: it is how root gets
// a locked-out admin back in.
func userPasswd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, o := adminFlags("user passwd", stderr)
	dbPath, fromStdin := o.db, o.fromStdin
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	password, err := readPassword(stdin, *fromStdin, pos[0])
	if err != nil {
		return err
	}
	d, u, err := openUser(ctx, *dbPath, pos[0])
	if err != nil {
		return err
	}
	defer d.Close()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	if u, err = d.SetPassword(ctx, u.ID, hash, false, func(_, u db.User) db.AuditEvent {
		return cliEvent("user.password_reset", fmt.Sprintf("password of user %q set; sessions ended", u.Name))
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of user %s set; their sessions have ended\n", u.Name)
	if u.Disabled {
		fmt.Fprintf(stdout, "note: %s is disabled; run \"portpanel user enable %s\" to let them sign in\n", u.Name, u.Name)
	}
	return nil
}
