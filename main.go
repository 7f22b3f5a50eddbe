// Command portpanel is a web panel for the Linux ephemeral port range
// (net.ipv4.ip_local_port_range): see it, change it with a reason, audit it,
// roll it back. main parses flags and environment, opens the database, wires
// the packages together and starts the server; it is the only place that
// knows every package.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  portpanel serve [flags]                      start the web panel
  portpanel user add NAME --role ROLE --password-stdin [--db PATH]
  portpanel token create --user NAME [--name LABEL] [--db PATH]
  portpanel audit verify [--db PATH]

Run "portpanel serve -h" for the server's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portpanel:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "serve":
		return serve(ctx, rest, stdout, stderr)
	case cmd == "user" && len(rest) > 0 && rest[0] == "add":
		return userAdd(ctx, rest[1:], stdin, stdout, stderr)
	case cmd == "token" && len(rest) > 0 && rest[0] == "create":
		return tokenCreate(ctx, rest[1:], stdout, stderr)
	case cmd == "audit" && len(rest) > 0 && rest[0] == "verify":
		return auditVerify(ctx, rest[1:], stdout, stderr)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// env returns the environment variable key, or def when it is unset, so
// every flag has an environment equivalent.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}
