// Package cli is portpanel's command line: the terminal client of the
// panel's API (status, change, confirm, approve, reject, rollback, changes,
// show, audit, usage, history), the admin commands (user, token, audit
// verify, version), serve with its wiring of every package and the
// background loops. main only calls Main; nothing else imports cli.
//
// The client commands reach the host only through the API, so every rule,
// role and audit event stays on the server's one path; the admin commands
// work on the database directly, for root on the host.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Main runs the command args (os.Args without the program name), prints
// its error to stderr and returns the process's exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := Run(ctx, args, stdin, stdout, stderr)
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ee) && ee.err == nil:
		// The command already said what happened (waiting for approval).
	default:
		fmt.Fprintln(stderr, "portpanel:", err)
	}
	return exitCode(err)
}

// usageError is a command portpanel does not know (or none at all), or
// arguments or flags a command cannot take: exit status 2, the usual one
// for a usage error, so a script can tell a typo from a command that ran
// and failed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCode is 0 for success and for -h (the flag package printed the help
// asked for), 2 for a usage error, the client's own status for what the
// server answered (see exitError), and 1 for a command that failed.
func exitCode(err error) int {
	var ue usageError
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFailed
}

// Run runs the command args and returns its error; Main is Run for a
// process.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, rootUsage(newRoot()))
		return usageError{"no command given"}
	}
	if args[0] == "--version" {
		return version(stdout)
	}
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return usageOf(cmd, err, stderr)
}

// env returns the environment variable key, or def when it is unset, so
// every flag has an environment equivalent.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}
