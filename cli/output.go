package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// term is where a client command writes, and how: JSON or text, colour
// only on a terminal and never with NO_COLOR (no-color.org).
type term struct {
	out, errw io.Writer
	in        io.Reader
	json      bool
	color     bool
	tty       bool // stdin and stdout are a terminal: someone can answer
	width     int  // stdout's columns; 0 when it is no terminal
}

func newTerm(cmd *cobra.Command, o *clientOpts) *term {
	t := &term{out: cmd.OutOrStdout(), errw: cmd.ErrOrStderr(), in: cmd.InOrStdin(), json: o.output == "json"}
	outTTY, cols := terminal(t.out)
	inTTY, _ := terminal(t.in)
	t.tty, t.width = outTTY && inTTY, cols
	t.color = outTTY && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return t
}

// terminal reports whether f is a terminal, and its width.
func terminal(f any) (bool, int) {
	file, ok := f.(*os.File)
	if !ok {
		return false, 0
	}
	if _, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS); err != nil {
		return false, 0
	}
	ws, err := unix.IoctlGetWinsize(int(file.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return true, 80
	}
	return true, int(ws.Col)
}

// SGR colours, by what they mean.
const (
	bold   = "1"
	red    = "31"
	green  = "32"
	yellow = "33"
	cyan   = "36"
	dim    = "2"
)

func (t *term) paint(sgr, s string) string {
	if !t.color || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

// level paints a risk level or a status by how worrying it is.
func (t *term) level(s string) string {
	switch s {
	case "critical", "failed", "rejected":
		return t.paint(red, s)
	case "warning", "proposed", "approved", "applying", "reverted":
		return t.paint(yellow, s)
	case "ok", "applied", "confirmed":
		return t.paint(green, s)
	}
	return s
}

func (t *term) printf(format string, args ...any) { fmt.Fprintf(t.out, format, args...) }

// talk is where sentences for the person go: stdout, or stderr when stdout
// carries JSON for a script.
func (t *term) talk() io.Writer {
	if t.json {
		return t.errw
	}
	return t.out
}

// raw prints an API answer as the API gave it, for --output json.
func (t *term) raw(b []byte) {
	t.out.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		io.WriteString(t.out, "\n")
	}
}

// rawObject prints an object of API answers or lists, each unchanged, for
// a command that asked more than once.
func (t *term) rawObject(fields map[string]any) error {
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	t.raw(b)
	return nil
}

// ask asks a yes-or-no question on the terminal; anything but y or yes
// is no.
func (t *term) ask(question string) bool {
	fmt.Fprintf(t.talk(), "%s [y/N] ", question)
	line, _ := bufio.NewReader(t.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

var sgrSeq = regexp.MustCompile("\x1b\\[[0-9;]*m")

// width is what a terminal shows of s: runes, without colour codes.
func width(s string) int { return utf8.RuneCountInString(sgrSeq.ReplaceAllString(s, "")) }

// renderTable aligns rows in columns two spaces apart; colour codes take
// no room, so painted cells line up too.
func renderTable(rows [][]string) string {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-width(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
	return b.String()
}

// table prints rows under a header painted bold.
func (t *term) table(header []string, rows [][]string) {
	for i, h := range header {
		header[i] = t.paint(bold, h)
	}
	io.WriteString(t.out, renderTable(append([][]string{header}, rows...)))
}

// diff paints a unified diff: removed lines red, added green, hunks cyan.
func (t *term) diff(d string) string {
	if !t.color {
		return d
	}
	lines := strings.SplitAfter(d, "\n")
	header := true // until the first hunk: "--- a" is a file, not a line
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "@@"):
			header = false
			lines[i] = t.paintLine(cyan, l)
		case header:
			lines[i] = t.paintLine(bold, l)
		case strings.HasPrefix(l, "+"):
			lines[i] = t.paintLine(green, l)
		case strings.HasPrefix(l, "-"):
			lines[i] = t.paintLine(red, l)
		}
	}
	return strings.Join(lines, "")
}

func (t *term) paintLine(sgr, l string) string {
	body, nl := strings.CutSuffix(l, "\n")
	if nl {
		return t.paint(sgr, body) + "\n"
	}
	return t.paint(sgr, body)
}
