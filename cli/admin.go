package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// The admin commands work on the database directly, as root on the host.
// cobra routes to them and shows their flags in help, completion and the
// man page, but each still parses its own flags with the flag package,
// exactly as before the client commands came: single-dash forms, their
// messages and their exit statuses are what scripts written for them
// expect.

// adminOpts are the admin commands' flag values.
type adminOpts struct {
	db, role, user, name, expires, to *string
	fromStdin                         *bool
}

// adminFlags defines the flags of the admin command cmd ("user add", "token
// list", ...): the one place that lists them, for the command to parse and
// for the docs to show.
func adminFlags(cmd string, stderr io.Writer) (*flag.FlagSet, adminOpts) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := adminOpts{db: fs.String("db", env("PORTPANEL_DB", defaultDB), "SQLite database file, or a postgres:// URL (env PORTPANEL_DB)")}
	switch cmd {
	case "user add":
		o.role = fs.String("role", "", "viewer, operator, approver or admin")
		fallthrough
	case "user passwd":
		o.fromStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	case "token create":
		o.user = fs.String("user", "", "the user the token acts for (required)")
		o.name = fs.String("name", "cli", "a name to recognise the token by")
		o.role = fs.String("role", "", "the token's role, at most the user's (default: the user's role)")
		o.expires = fs.String("expires", "never", "never, a number of days (90d) or a date (YYYY-MM-DD, from 00:00 UTC)")
	case "token list":
		o.user = fs.String("user", "", "list only this user's tokens")
	case "db copy":
		o.to = fs.String("to", "", "the empty database to copy into: a postgres:// URL (required)")
	}
	return fs, o
}

type adminRun func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// adminCommand is an admin command under cobra: cobra leaves its
// arguments alone and run parses them.
func adminCommand(use, short, example string, flags *flag.FlagSet, run adminRun) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Example: example,
		DisableFlagParsing: true, DisableFlagsInUseLine: true,
		Annotations: map[string]string{groupKey: groupAdmin},
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	if flags != nil {
		c.Flags().AddGoFlagSet(flags)
	}
	return c
}

func adminFlagSet(cmd string) *flag.FlagSet {
	fs, _ := adminFlags(cmd, io.Discard)
	return fs
}

// adminGroup is "user" or "token": a subcommand it does not know is a
// usage error naming the ones it has, as it always was.
func adminGroup(use, short, needs string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Annotations: map[string]string{groupKey: groupAdmin},
		Args: cobra.ArbitraryArgs, DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return commandUsage{fmt.Sprintf("%s needs %s", use, needs)}
		},
	}
	c.AddCommand(subs...)
	return c
}

func adminCommands() []*cobra.Command {
	serveFlags, _, _, _ := (&serveConfig{}).flagSet(io.Discard)
	db := " [--db PATH]"
	user := adminGroup("user", "manage users in the database", "list, add, disable, enable, set-role or passwd",
		adminCommand("list"+db, "list users, their roles and status", "", adminFlagSet("user list"),
			func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
				return userList(ctx, a, o, e)
			}),
		adminCommand("add NAME --role ROLE --password-stdin"+db, "add a user", `  echo "$PASSWORD" | portpanel user add alice --role admin --password-stdin`,
			adminFlagSet("user add"), userAdd),
		adminCommand("disable NAME"+db, "disable a user: sessions end, API tokens stop", "", adminFlagSet("user disable"),
			func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
				return userSetDisabled(ctx, "disable", a, o, e)
			}),
		adminCommand("enable NAME"+db, "enable a disabled user", "", adminFlagSet("user enable"),
			func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
				return userSetDisabled(ctx, "enable", a, o, e)
			}),
		adminCommand("set-role NAME ROLE"+db, "change a user's role", "  portpanel user set-role bob approver", adminFlagSet("user set-role"),
			func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
				return userSetRole(ctx, a, o, e)
			}),
		adminCommand("passwd NAME --password-stdin"+db, "set a password (no change forced): how root lets a locked-out admin back in", "",
			adminFlagSet("user passwd"), userPasswd),
	)
	token := adminGroup("token", "manage API tokens in the database", "create, list or revoke",
		adminCommand("create --user NAME [--name LABEL] [--role ROLE] [--expires 90d|YYYY-MM-DD]"+db, "create an API token; it is printed once",
			"  portpanel token create --user alice --name laptop --expires 90d > ~/.config/portpanel/token", adminFlagSet("token create"),
			func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
				return tokenCreate(ctx, a, o, e)
			}),
		adminCommand("list [--user NAME]"+db, "list API tokens (never their secrets)", "", adminFlagSet("token list"),
			func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
				return tokenList(ctx, a, o, e)
			}),
		adminCommand("revoke ID"+db, "revoke an API token", "", adminFlagSet("token revoke"),
			func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
				return tokenRevoke(ctx, a, o, e)
			}),
	)
	return []*cobra.Command{
		adminCommand("serve [flags]", "start the web panel", "  PORTPANEL_SYSCTL_FILE=/etc/sysctl.d/90-portpanel.conf portpanel serve --require-approval",
			serveFlags, func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error { return serve(ctx, a, o, e) }),
		user, token, dbCommand(), agentCommand(),
		adminCommand("version", "print the version, commit and Go release", "", nil,
			func(_ context.Context, _ []string, _ io.Reader, o, _ io.Writer) error { return version(o) }),
	}
}

// auditVerifyCommand is "audit verify", under the client's audit.
func auditVerifyCommand() *cobra.Command {
	return adminCommand("verify"+" [--db PATH]", "recompute the audit log's hash chain", "", adminFlagSet("audit verify"),
		func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
			return auditVerify(ctx, a, o, e)
		})
}
