package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"portpanel/auth"
	"portpanel/db"
)

// cliActor is the audit user of everything done from the command line:
// whoever runs it has root on the host, not a portpanel account.
const cliActor = "cli"

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o := adminFlags("token create", stderr)
	dbPath, user, label, role, expires := o.db, o.user, o.name, o.role, o.expires
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *user == "" {
		return errors.New("--user is required: the user the token acts for")
	}
	if msg := auth.CheckTokenName(*label); msg != "" {
		return fmt.Errorf("--name: %s", msg)
	}
	at, msg := auth.ParseExpiry(*expires, time.Now())
	if msg != "" {
		return fmt.Errorf("--expires: %s", msg)
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.UserByName(ctx, *user)
	if err != nil {
		return err // names the user and says "not found"
	}
	if u.Disabled {
		return fmt.Errorf("user %s is disabled: a token of theirs would not work", u.Name)
	}
	if *role == "" {
		*role = u.Role
	}
	if msg := auth.CheckTokenRole(*role, u.Role); msg != "" {
		return fmt.Errorf("--role: %s", msg)
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	t, err := d.AddToken(ctx, db.Token{UserID: u.ID, Name: *label, Role: *role, ExpiresAt: at}, auth.HashToken(secret),
		func(t db.Token) db.AuditEvent {
			return db.AuditEvent{User: cliActor, Action: "token.created", Detail: fmt.Sprintf(
				"API token #%d %q for %s created from the command line: role %s, %s", t.ID, t.Name, u.Name, t.Role, expiryWords(t.ExpiresAt))}
		})
	if err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	// The secret alone on stdout, for scripts; it is shown once and only
	// its hash is stored.
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "created API token #%d %q for %s (role %s, %s); it is not shown again\n",
		t.ID, t.Name, u.Name, t.Role, expiryWords(t.ExpiresAt))
	return nil
}

func tokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o := adminFlags("token list", stderr)
	dbPath, user := o.db, o.user
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	var list []db.OwnedToken
	if *user == "" {
		list, err = d.AllTokens(ctx)
	} else {
		var u db.User
		if u, err = d.UserByName(ctx, *user); err != nil {
			return err
		}
		list, err = d.Tokens(ctx, u.ID)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tUSER\tROLE\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		owner := t.Owner
		if t.OwnerDisabled {
			owner += " (disabled)"
		}
		fmt.Fprintf(w, "%d\t%q\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, owner, roleWords(t),
			cliTime(&t.CreatedAt), expiresWords(t.ExpiresAt, now), cliTime(t.LastUsedAt))
	}
	return w.Flush()
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o := adminFlags("token revoke", stderr)
	dbPath := o.db
	arg, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return errors.New("give the ID of the token to revoke (see portpanel token list)")
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	t, err := d.Token(ctx, id)
	if err != nil {
		return err // names the token and says "not found"
	}
	if _, err := d.RevokeToken(ctx, id, func(db.Token) db.AuditEvent {
		return db.AuditEvent{User: cliActor, Action: "token.revoked", Detail: fmt.Sprintf(
			"API token #%d %q of %s revoked from the command line", t.ID, t.Name, t.Owner)}
	}); err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	fmt.Fprintf(stdout, "revoked API token #%d %q of %s\n", t.ID, t.Name, t.Owner)
	return nil
}

// roleWords is the role a listed token acts with, and why when that is
// not the role it was given.
func roleWords(t db.OwnedToken) string {
	acts := auth.TokenRole(t.Role, t.OwnerRole)
	switch {
	case t.Role == "":
		return acts + " (the user's)"
	case acts != t.Role:
		return acts + " (given " + t.Role + ", the user's role is lower now)"
	}
	return acts
}

func expiresWords(at *time.Time, now time.Time) string {
	switch {
	case at == nil:
		return "never"
	case !now.Before(*at):
		return cliTime(at) + " (expired)"
	}
	return cliTime(at)
}

func expiryWords(at *time.Time) string {
	if at == nil {
		return "never expires"
	}
	return "expires " + cliTime(at)
}

func cliTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return auth.ExpiryText(*t)
}
