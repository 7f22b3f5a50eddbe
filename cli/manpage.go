package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// manCommand writes portpanel(8) from the command tree itself, so the
// manual lists exactly the commands, flags and examples the binary has.
// packaging/manpage.sh runs it for the Debian package. Hidden: it is for
// packagers, not for the terminal.
func manCommand() *cobra.Command {
	var ver, date string
	cmd := &cobra.Command{
		Use: "man", Short: "print the manual page portpanel(8) in roff", Hidden: true,
		Args: func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return commandUsage{"man takes no arguments"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeMan(cmd.OutOrStdout(), cmd.Root(), ver, date)
		},
	}
	cmd.Flags().StringVar(&ver, "version", "", "the version the page names")
	cmd.Flags().StringVar(&date, "date", "", "the date the page names (YYYY-MM-DD)")
	return cmd
}

// roffText escapes prose for roff: backslashes, and a line that would
// read as a request. Non-ASCII becomes roff's own glyphs.
var roffText = strings.NewReplacer(`\`, `\e`, "→", `\(->`, "–", `\(en`, "…", "...", "’", "'")

func roff(s string) string {
	lines := strings.Split(roffText.Replace(s), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// roffCode is roff for a command line or a flag: a hyphen there is a minus.
func roffCode(s string) string { return strings.ReplaceAll(roff(s), "-", `\-`) }

func writeMan(w io.Writer, root *cobra.Command, ver, date string) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH PORTPANEL 8 %q %q \"System Administration\"\n", date, "portpanel "+ver)
	b.WriteString(".SH NAME\nportpanel \\- web panel and terminal client for the Linux ephemeral port range\n.SH SYNOPSIS\n.nf\n")
	for _, c := range leaves(root) {
		b.WriteString(roffCode(c.UseLine()) + "\n")
	}
	b.WriteString(".fi\n.SH DESCRIPTION\n" + roff(strings.ReplaceAll(root.Long, "\n", " ")) + "\n")
	b.WriteString(manDescription)
	for _, g := range groupTitles {
		fmt.Fprintf(&b, ".SH %s\n", strings.ToUpper(strings.TrimSuffix(strings.SplitN(g.title, ",", 2)[0], ":")))
		for _, c := range leaves(root) {
			if group(c) == g.key {
				manCommandText(&b, c)
			}
		}
	}
	b.WriteString(".SH EXIT STATUS\nThe client commands exit with:\n")
	for _, e := range exitStatuses {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", e.code, roff(e.text))
	}
	b.WriteString("The admin commands exit 0 when done, 1 when they fail and 2 on a usage error.\n")
	b.WriteString(manFooter)
	_, err := io.WriteString(w, b.String())
	return err
}

// manCommandText is one command's entry: its usage, what it does, its
// examples and its flags.
func manCommandText(b *strings.Builder, c *cobra.Command) {
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	fmt.Fprintf(b, ".SS %s\n", roffCode(strings.TrimPrefix(c.UseLine(), "portpanel ")))
	for _, p := range strings.Split(strings.TrimSpace(desc), "\n\n") {
		fmt.Fprintf(b, ".PP\n%s\n", roff(p))
	}
	flags := append(flagList(c, false), flagList(c, true)...)
	if len(flags) > 0 {
		b.WriteString(".PP\nFlags:\n.RS\n")
		for _, f := range flags {
			fmt.Fprintf(b, ".TP\n.B %s\n%s\n", roffCode(strings.TrimSpace(flagName(f))), roff(flagUsage(f)))
		}
		b.WriteString(".RE\n")
	}
	if c.Example != "" {
		fmt.Fprintf(b, ".PP\nExamples:\n.PP\n.nf\n.RS\n%s\n.RE\n.fi\n", roffCode(strings.TrimRight(c.Example, "\n")))
	}
}

const manDescription = `.PP
.B portpanel serve
is the web panel and JSON API for
.IR net.ipv4.ip_local_port_range :
the runtime value, the value the host boots with, and port usage.
Every change is previewed, recorded with its reason and audited; it can be
approved by a second person, confirmed or reverted automatically, and rolled
back.
On first start with no users it prints a one\-time setup link that creates
the first administrator.
The packaged service, portpanel.service, runs
.B portpanel serve
on 127.0.0.1:8080; its settings are in
.IR /etc/default/portpanel .
.PP
The client commands need an API token: an admin makes one with
.BR "portpanel token create" ,
and the client reads it from
.BR \-\-token ,
.B PORTPANEL_TOKEN
or the token file. Text output is coloured only on a terminal, never with
.BR NO_COLOR ;
.B \-\-output json
prints the API's answers unchanged.
`

const manFooter = `.SH ENVIRONMENT
.TP
.B PORTPANEL_URL
the server the client commands talk to (default http://127.0.0.1:8080; unix:///PATH for a socket)
.TP
.B PORTPANEL_TOKEN
the API token of the client commands
.TP
.B PORTPANEL_CA_FILE
the CA certificate that signed the server's, in PEM
.TP
.B NO_COLOR
when set and not empty, no colour even on a terminal
.TP
.B XDG_CONFIG_HOME
where the token file is (default ~/.config)
.TP
.B PORTPANEL_DB
the database of serve and the admin commands; every flag of serve has its variable, named with it
.SH FILES
.TP
.I $XDG_CONFIG_HOME/portpanel/token
the client's API token; refused unless only its owner may read it (mode 0600)
.TP
.I /etc/default/portpanel
settings of portpanel.service (PORTPANEL_* variables)
.TP
.I /var/lib/portpanel/portpanel.db
the database: users, sessions, changes, the audit log
.TP
.I /etc/sysctl.d/90\-portpanel.conf
the file the service writes the range to
.SH SEE ALSO
.BR sysctl.d (5),
.BR systemd.exec (5),
.I /usr/share/doc/portpanel/
`
