package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// The client's exit statuses, fixed so a script can branch on them; the
// root help and the man page list them.
const (
	exitOK          = 0
	exitFailed      = 1 // refused by the server or failed
	exitUsage       = 2 // arguments or flags the command cannot take
	exitWaiting     = 3 // submitted; waiting for a second person's approval
	exitStale       = 4 // 409: what it was based on changed meanwhile
	exitHazard      = 5 // 422 naming hazards to acknowledge with --ack
	exitUnreachable = 6 // cannot reach the server or authenticate to it
)

// exitStatuses is the list the help and the man page print.
var exitStatuses = []struct {
	code int
	text string
}{
	{exitOK, "done"},
	{exitFailed, "refused or failed (status: a warning or the risk is critical)"},
	{exitUsage, "usage: a command, argument or flag it cannot take"},
	{exitWaiting, "submitted, waiting for approval by an approver or admin"},
	{exitStale, "stale: the range or the file changed since the preview, or the change moved on (409)"},
	{exitHazard, "a hazard needs --ack CODE (422 naming the hazards)"},
	{exitUnreachable, "cannot reach the server or authenticate to it (token missing, refused or unsafe)"},
}

// exitError ends a client command with one of the statuses above. err nil
// means the command already said all there is (waiting for approval).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// cobraUsage are the beginnings of cobra's own messages about a command
// line it cannot take.
var cobraUsage = []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "invalid argument",
	"flag needs an argument", "bad flag syntax", "accepts ", "requires "}

// usageOf turns cobra's complaints about the command line into usage
// errors, after printing the usage of the command they are about on
// stderr. An admin command's own flag errors pass as they always did.
func usageOf(cmd *cobra.Command, err error, stderr io.Writer) error {
	if err == nil {
		return nil
	}
	var cu commandUsage
	isUsage := errors.As(err, &cu)
	for _, p := range cobraUsage {
		isUsage = isUsage || strings.HasPrefix(err.Error(), p)
	}
	if !isUsage {
		return err
	}
	if cmd == nil || !cmd.HasParent() || cmd.Annotations[groupKey] == groupAdmin || cmd.HasSubCommands() {
		fmt.Fprint(stderr, rootUsage(rootOf(cmd)))
	} else {
		fmt.Fprintf(stderr, "usage: %s\nRun \"portpanel help %s\" for its flags and examples.\n", cmd.UseLine(), strings.TrimPrefix(cmd.CommandPath(), "portpanel "))
	}
	return usageError{err.Error()}
}

// commandUsage is a usage error found by a client command's own checks (a
// missing argument); usageOf prints the command's usage and makes it a
// usageError.
type commandUsage struct{ msg string }

func (e commandUsage) Error() string { return e.msg }

func cmdUsage(format string, args ...any) error {
	return commandUsage{fmt.Sprintf(format, args...)}
}

func rootOf(cmd *cobra.Command) *cobra.Command {
	if cmd == nil {
		return newRoot()
	}
	return cmd.Root()
}
