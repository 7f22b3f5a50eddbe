// Package cli is portpanel's command line: the admin commands (user,
// token, audit verify, version), serve with its wiring of every package and
// the background loops. main only calls Main; nothing else imports cli.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usageText = `usage:
  portpanel serve [flags]                      start the web panel
  portpanel user list [--db PATH]
  portpanel user add NAME --role ROLE --password-stdin [--db PATH]
  portpanel user disable|enable NAME [--db PATH]
  portpanel user set-role NAME ROLE [--db PATH]
  portpanel user passwd NAME --password-stdin [--db PATH]   set a password (no change forced)
  portpanel token create --user NAME [--name LABEL] [--role ROLE] [--expires 90d|YYYY-MM-DD] [--db PATH]
  portpanel token list [--user NAME] [--db PATH]
  portpanel token revoke ID [--db PATH]
  portpanel audit verify [--db PATH]
  portpanel version                            print the version, commit and Go release
  portpanel help                               print this text

Run "portpanel serve -h" for the server's flags.
`

// Main runs the command args (os.Args without the program name), prints
// its error to stderr and returns the process's exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := Run(ctx, args, stdin, stdout, stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, "portpanel:", err)
	}
	return exitCode(err)
}

// usageError is a command portpanel does not know (or none at all): exit
// status 2, the usual one for a usage error, so a script can tell a typo from
// a command that ran and failed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCode is 0 for success and for -h (the flag package printed the help
// asked for), 2 for a usage error and 1 for a command that failed.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// Run runs the command args and returns its error; Main is Run for a
// process.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return usageError{"no command given"}
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "serve":
		return serve(ctx, rest, stdout, stderr)
	case cmd == "user":
		return userCmd(ctx, rest, stdin, stdout, stderr)
	case cmd == "token":
		return tokenCmd(ctx, rest, stdout, stderr)
	case cmd == "audit" && len(rest) > 0 && rest[0] == "verify":
		return auditVerify(ctx, rest[1:], stdout, stderr)
	case cmd == "version" || cmd == "--version":
		return version(stdout)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usageText)
		return nil
	}
	fmt.Fprint(stderr, usageText)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// env returns the environment variable key, or def when it is unset, so
// every flag has an environment equivalent.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}
