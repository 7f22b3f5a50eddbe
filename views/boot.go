package views

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"portpanel/sysctl"
)

// bootReader is the reader in force, whichever field the report filled.
func bootReader(r sysctl.BootReport) sysctl.Reader {
	if r.Boot.Reader != "" {
		return r.Boot.Reader
	}
	return r.Reader
}

// refusedTexts are the writes the kernel refuses at boot, one sentence
// each. The value is quoted as Go quotes it: what is refused is often an
// odd spelling (empty, a glued comment, a control character), and the admin
// must see exactly what the file holds.
func refusedTexts(refused []sysctl.RefusedWrite) []string {
	out := make([]string, 0, len(refused))
	for _, r := range refused {
		out = append(out, where(r.Where)+" sets "+strconv.Quote(r.Value)+": refused by the kernel — "+r.Reason)
	}
	return out
}

// cardWarnings are the dashboard's warnings less those the After reboot
// column already shows: sysctl.Report words each refused write and each
// uncertainty as a warning too (for the API and the other pages), and a
// page that says the same thing twice reads as two problems. The sentences
// are matched on the parts Report takes from the Boot fields;
// TestDashboardSaysEachBootProblemOnce (web) fails if its wording drifts.
func cardWarnings(p DashboardPage) []string {
	b := p.Boot.Boot
	var out []string
outer:
	for _, w := range p.Warnings {
		for _, u := range b.Uncertain {
			if strings.Contains(w, u) {
				continue outer
			}
		}
		for _, r := range b.Refused {
			// The file by its base name: Report names it without the
			// config root.
			at := filepath.Base(r.Where.File) + ":" + strconv.Itoa(r.Where.Line)
			if strings.Contains(w, at) && strings.Contains(w, strconv.Quote(r.Value)) && strings.Contains(w, r.Reason) {
				continue outer
			}
		}
		out = append(out, w)
	}
	return out
}

// bootProblems are the files that could not be read, less those the
// uncertainty note above already names: an uncertainty is its problem
// sentence with why it matters added.
func bootProblems(b sysctl.Boot) []string {
	var out []string
	for _, p := range b.Problems {
		if !slices.ContainsFunc(b.Uncertain, func(u string) bool { return strings.HasPrefix(u, p) }) {
			out = append(out, p)
		}
	}
	return out
}
