package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// groupKey annotates each command with the part of the help it is listed
// in: the client's workflow, the admin commands on the host, or the shell.
const (
	groupKey    = "portpanel.group"
	groupClient = "client"
	groupAdmin  = "admin"
	groupShell  = "shell"
)

// The help lists commands in the order of the workflow, not A to Z. Set
// once, before any tree is built: trees are built concurrently (a test runs
// serve and an admin command at once).
func init() { cobra.EnableCommandSorting = false }

// newRoot builds the whole command tree. It is built anew for every run,
// so no flag value outlives its command line.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "portpanel",
		Short: "web panel and terminal client for the Linux ephemeral port range",
		Long: `portpanel shows and changes net.ipv4.ip_local_port_range: "portpanel serve" is the
web panel and its JSON API; the client commands (status, change, confirm, ...)
work through that API from any terminal, with the panel's rules, roles and
audit intact; the admin commands (user, token, audit verify) work on the
database directly, as root on the host.`,
		SilenceErrors: true, SilenceUsage: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return commandUsage{"no command given"}
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return commandUsage{err.Error()} })
	root.AddCommand(clientCommands()...)
	root.AddCommand(adminCommands()...)
	root.AddCommand(enrollCommands())
	root.AddCommand(completionCommand(), manCommand())
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		if cmd.HasParent() {
			fmt.Fprint(cmd.OutOrStdout(), commandHelp(cmd))
			return
		}
		fmt.Fprint(cmd.OutOrStdout(), rootUsage(cmd))
	})
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if _, ok := c.Annotations[groupKey]; !ok {
			if c.Annotations == nil {
				c.Annotations = map[string]string{}
			}
			c.Annotations[groupKey] = groupShell
		}
	}
	return root
}

// leaves are the commands that run something, depth first, in the order
// they were added.
func leaves(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	if c.Runnable() && c.HasParent() && !c.HasAvailableSubCommands() || c.Name() == "audit" || c.Name() == "hosts" {
		out = append(out, c)
	}
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() || s.Name() == "help" {
			out = append(out, leaves(s)...)
		}
	}
	return out
}

// group is the help group of c: its own or its top-level command's.
func group(c *cobra.Command) string {
	for ; c.HasParent(); c = c.Parent() {
		if g, ok := c.Annotations[groupKey]; ok {
			return g
		}
	}
	return groupShell
}

var groupTitles = []struct{ key, title string }{
	{groupClient, "The workflow, through the panel's API (--server, --token; any host):"},
	{groupAdmin, "On the panel's host, on its database directly:"},
	{groupShell, "Shell:"},
}

// rootUsage is the list of every command, for "portpanel --help" and for
// a usage error at the top.
func rootUsage(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("usage:\n  portpanel COMMAND [ARGUMENTS] [flags]\n")
	for _, g := range groupTitles {
		var rows [][]string
		wide := false
		for _, c := range leaves(root) {
			if group(c) == g.key {
				rows = append(rows, []string{"  " + c.UseLine(), c.Short})
				wide = wide || len(c.UseLine()) > 52
			}
		}
		fmt.Fprintf(&b, "\n%s\n", g.title)
		if !wide {
			b.WriteString(renderTable(rows))
			continue
		}
		// Long command lines, such as token create's: the text under each.
		for _, r := range rows {
			fmt.Fprintf(&b, "%s\n      %s\n", r[0], r[1])
		}
	}
	b.WriteString("\nExit status:\n")
	for _, e := range exitStatuses {
		fmt.Fprintf(&b, "  %d  %s\n", e.code, e.text)
	}
	b.WriteString("\nRun \"portpanel help COMMAND\" for a command's flags and examples, \"portpanel serve -h\" for the server's.\n")
	return b.String()
}

// commandHelp is one command's help: what it does, its usage, examples
// and flags.
func commandHelp(c *cobra.Command) string {
	var b strings.Builder
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	fmt.Fprintf(&b, "%s\n\nusage:\n  %s\n", strings.TrimSpace(desc), c.UseLine())
	if subs := c.Commands(); len(subs) > 0 {
		var rows [][]string
		for _, s := range subs {
			if s.IsAvailableCommand() {
				rows = append(rows, []string{"  " + s.UseLine(), s.Short})
			}
		}
		fmt.Fprintf(&b, "\ncommands:\n%s", renderTable(rows))
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "\nexamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	for _, conn := range []bool{false, true} {
		var rows [][]string
		for _, f := range flagList(c, conn) {
			rows = append(rows, []string{"  " + flagName(f), flagUsage(f)})
		}
		if len(rows) > 0 {
			fmt.Fprintf(&b, "\n%s\n%s", map[bool]string{false: "flags:", true: "connection and output flags:"}[conn], renderTable(rows))
		}
	}
	return b.String()
}

// connFlag marks the flags every client command has, listed after its own.
const connFlag = "portpanel.connection"

// flagList is c's own flags (conn false) or its connection flags, A to Z,
// without --help.
func flagList(c *cobra.Command, conn bool) []*pflag.Flag {
	var out []*pflag.Flag
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !f.Hidden && (f.Annotations[connFlag] != nil) == conn {
			out = append(out, f)
		}
	})
	return out
}

// flagName is how a flag is written: -y, --yes or --reason string.
func flagName(f *pflag.Flag) string {
	name := "    --" + f.Name
	if f.Shorthand != "" {
		name = "-" + f.Shorthand + ", --" + f.Name
	}
	if typ, _ := pflag.UnquoteUsage(f); typ != "" && f.NoOptDefVal == "" {
		name += " " + typeNames.Replace(typ)
	}
	return name
}

// typeNames are pflag's names of flag types as a reader would say them.
var typeNames = strings.NewReplacer("stringArray", "string", "proxyList", "list", "float64", "number")

// flagUsage is a flag's text with its default, when it has one worth
// saying.
func flagUsage(f *pflag.Flag) string {
	_, usage := pflag.UnquoteUsage(f)
	switch f.DefValue {
	case "", "false", "[]", "0s", "0":
		return usage
	}
	return usage + " (default " + f.DefValue + ")"
}

// completionCommand prints cobra's completion script for a shell; the
// scripts ask the binary itself (portpanel __complete) what to offer, so
// they follow the commands and flags of the installed version.
func completionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "print the shell completion script",
		Long: `Prints the completion script for bash, zsh or fish on stdout. Load it for
the current shell, or install it where the shell looks for completions.`,
		Example: `  source <(portpanel completion bash)
  portpanel completion bash > /etc/bash_completion.d/portpanel
  portpanel completion zsh > "${fpath[1]}/_portpanel"
  portpanel completion fish > ~/.config/fish/completions/portpanel.fish`,
		ValidArgs:             []string{"bash", "zsh", "fish"},
		DisableFlagsInUseLine: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return commandUsage{"completion needs one shell: bash, zsh or fish"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return cmd.Root().GenBashCompletionV2(out, true)
			case "zsh":
				return cmd.Root().GenZshCompletion(out)
			case "fish":
				return cmd.Root().GenFishCompletion(out, true)
			}
			return commandUsage{fmt.Sprintf("completion: unknown shell %q: use bash, zsh or fish", args[0])}
		},
	}
}
