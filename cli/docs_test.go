package cli

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The help, the completion scripts and the man page come from the one
// command tree: each must name every command.

func TestManPageNamesEveryCommand(t *testing.T) {
	r := runMain("man", "--version", "1.2.3", "--date", "2026-07-14")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	if !strings.HasPrefix(r.stdout, `.TH PORTPANEL 8 "2026-07-14" "portpanel 1.2.3"`) {
		t.Errorf("the title line names no date and version:\n%.200s", r.stdout)
	}
	for _, c := range leaves(newRoot()) {
		if !strings.Contains(r.stdout, roffCode(c.UseLine())) {
			t.Errorf("the SYNOPSIS lacks %q", c.UseLine())
		}
	}
	for _, want := range []string{`.B \-\-reserved\-ports string`, `.B \-\-ack string`, `.B \-\-confirm\-within duration`,
		`.B \-\-db string`, `.B \-\-tls\-cert string`, ".SH EXIT STATUS", "a hazard needs", ".SH ENVIRONMENT", "NO_COLOR",
		`portpanel change 20000 60999 \-\-reason "INC\-4711" \-\-confirm\-within 5m`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.ContainsAny(r.stdout, "→–…") {
		t.Error("the page has non-ASCII characters; roff's glyphs stand for them")
	}
	// As lintian reads it: man's own warnings are errors.
	if _, err := exec.LookPath("man"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("man not found, and CI is set: install man-db (test.sh does)")
		}
		t.Skip("no man to check the page with (install man-db)")
	}
	cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", "-")
	cmd.Stdin = strings.NewReader(r.stdout)
	cmd.Env = append(cmd.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("man: %v\n%s", err, stderr.String())
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_portpanel", "zsh": "#compdef portpanel", "fish": "complete -c portpanel"} {
		t.Run(shell, func(t *testing.T) {
			r := runMain("completion", shell)
			if r.code != 0 || !strings.Contains(r.stdout, want) {
				t.Errorf("want a script with %q; %.300s", want, r)
			}
		})
	}
	if r := runMain("completion", "tcsh"); r.code != exitUsage {
		t.Errorf("an unknown shell: %s", r)
	}
	// What the scripts ask the binary: commands, then flags of a command.
	r := runMain("__complete", "ch")
	if !strings.Contains(r.stdout, "change\t") || !strings.Contains(r.stdout, "changes\t") {
		t.Errorf("completing ch: %s", r)
	}
	r = runMain("__complete", "change", "1", "2", "--confirm-within", "")
	if !strings.Contains(r.stdout, "5m") {
		t.Errorf("completing --confirm-within: %s", r)
	}
	r = runMain("__complete", "user", "add", "--")
	if !strings.Contains(r.stdout, "--password-stdin") {
		t.Errorf("an admin command's flags complete too: %s", r)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	r := runMain("--help")
	for _, c := range leaves(newRoot()) {
		if !strings.Contains(r.stdout, c.UseLine()) {
			t.Errorf("portpanel --help lacks %q", c.UseLine())
		}
	}
	for _, cmd := range []string{"status", "change", "rollback", "history", "audit"} {
		r := runMain("help", cmd)
		if r.code != 0 || !strings.Contains(r.stdout, "examples:") || !strings.Contains(r.stdout, "--server string") {
			t.Errorf("portpanel help %s: want examples and the connection flags; %s", cmd, r)
		}
	}
	// The admin commands keep the flag package's own help.
	if r := runMain("user", "add", "-h"); r.code != 0 || !strings.Contains(r.stderr, "-password-stdin") {
		t.Errorf("user add -h: %s", r)
	}
}

func TestRoffEscapes(t *testing.T) {
	got := roff(".TH in text\n'quote\nC:\\path → there")
	if want := "\\&.TH in text\n\\&'quote\nC:\\epath \\(-> there"; got != want {
		t.Errorf("roff = %q, want %q", got, want)
	}
	if got := roffCode("--db"); got != `\-\-db` {
		t.Errorf("roffCode = %q", got)
	}
}
