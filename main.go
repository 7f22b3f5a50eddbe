// Command portpanel is a web panel for the Linux ephemeral port range
// (net.ipv4.ip_local_port_range): see it, change it with a reason, audit it,
// roll it back. The commands, the serve wiring and the background loops live
// in package cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"portpanel/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
