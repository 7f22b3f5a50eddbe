package views

import (
	"strconv"
	"strings"
	"time"

	"portpanel/sysctl"
)

// thousands formats n with comma separators: 28232 → "28,232".
// It builds the text on the stack: pages print many counts.
func thousands(n int) string {
	var digits, out [32]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	b := out[:0]
	if d[0] == '-' {
		b, d = append(b, '-'), d[1:]
	}
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return string(b)
}

// rangeText is a range as admins read it: "32768 – 60999". Port numbers get
// no separators; counts do. This and the other texts every change row
// prints are built on the stack, so each costs one allocation.
func rangeText(low, high int) string {
	var buf [48]byte
	b := strconv.AppendInt(buf[:0], int64(low), 10)
	b = append(b, " – "...)
	return string(strconv.AppendInt(b, int64(high), 10))
}

// portCount is "28,232 ports" for an inclusive range.
func portCount(low, high int) string {
	n := sysctl.Range{Low: low, High: high}.Size()
	if n == 1 {
		return "1 port"
	}
	return thousands(n) + " ports"
}

// absTime is the time in UTC, as short as is unambiguous next to now:
// "14:02 UTC" today, "Jul 14 14:02 UTC" this year, else with the year.
func absTime(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	switch {
	case !now.IsZero() && sameDay(t, now):
		return t.Format("15:04 UTC")
	case !now.IsZero() && t.Year() == now.Year():
		return t.Format("Jan 2 15:04 UTC")
	default:
		return t.Format("2006-01-02 15:04 UTC")
	}
}

func sameDay(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.YearDay() == b.YearDay() && a.Year() == b.Year()
}

// spanEnd is the end of a time span that starts at from, as short as is
// unambiguous: the time alone when it ends the same day.
func spanEnd(from, to time.Time) string {
	if sameDay(from, to) {
		return to.UTC().Format("15:04 UTC")
	}
	return to.UTC().Format("2006-01-02 15:04 UTC")
}

// fullTime is the exact instant, for tooltips.
func fullTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// isoTime is the machine-readable form for <time datetime>.
func isoTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// relTime says how long ago t was, seen from now: "just now", "3 min ago",
// "5 h ago", "2 days ago", or "in 3 min" for the future. It is computed from
// the page's Now, never the wall clock, so renders are deterministic.
func relTime(t, now time.Time) string {
	if now.IsZero() || t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	n, unit := int64(d/(24*time.Hour)), " days"
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		n, unit = int64(d/time.Minute), " min"
	case d < 48*time.Hour:
		n, unit = int64(d/time.Hour), " h"
	}
	var buf [32]byte
	b := buf[:0]
	if future {
		b = append(b, "in "...)
	}
	b = append(strconv.AppendInt(b, n, 10), unit...)
	if !future {
		b = append(b, " ago"...)
	}
	return string(b)
}

// idText is "#12".
func idText(id int64) string {
	return withID("#", id, "")
}

// changeURL is the detail page of a change.
func changeURL(id int64) string {
	return withID("/changes/", id, "")
}

// rollbackURL is where a change's rollback form posts.
func rollbackURL(id int64) string {
	return withID("/changes/", id, "/rollback")
}

// rollbackReason is the default reason of a rollback.
func rollbackReason(id int64) string {
	return withID("Roll back change #", id, "")
}

// withID is prefix, id and suffix in one string, built on the stack.
func withID(prefix string, id int64, suffix string) string {
	var buf [64]byte
	b := strconv.AppendInt(append(buf[:0], prefix...), id, 10)
	return string(append(b, suffix...))
}

// olderURL is the keyset link to the next older page of a list.
func olderURL(path string, before int64, extra ...string) string {
	q := strings.Join(append(extra, "before="+strconv.FormatInt(before, 10)), "&")
	return path + "?" + q
}

// diffLineClass styles one line of a unified diff.
func diffLineClass(line string) string {
	switch {
	case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
		return "diff-file"
	case strings.HasPrefix(line, "+"):
		return "diff-add"
	case strings.HasPrefix(line, "-"):
		return "diff-del"
	case strings.HasPrefix(line, "@@"):
		return "diff-hunk"
	default:
		return "diff-ctx"
	}
}

// diffLines splits a diff into lines, each ending in its newline (one is
// added to a last line without), so a template prints them as they are.
func diffLines(diff string) []string {
	lines := strings.SplitAfter(diff, "\n")
	if n := len(lines); n > 1 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if last := &lines[len(lines)-1]; !strings.HasSuffix(*last, "\n") {
		*last += "\n"
	}
	return lines
}

// readerName names the boot reader as admins know the program.
func readerName(r sysctl.Reader) string {
	switch r {
	case sysctl.ReaderSystemd:
		return "systemd-sysctl"
	case sysctl.ReaderProcps:
		return "sysctl --system (procps)"
	case "":
		return "unknown"
	default:
		return string(r)
	}
}

// where is "file:line", or just the file when the line is unknown.
func where(l sysctl.Location) string {
	if l.Line <= 0 {
		return l.File
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// roleText is the role in parentheses, or nothing.
func roleText(role string) string {
	if role == "" {
		return ""
	}
	return " (" + role + ")"
}

// portsText is a reserved-ports list as the pages show it: "none" for the
// empty one.
func portsText(list string) string {
	if list == "" {
		return "none"
	}
	return list
}

// listeningPortsText is "1 listening port" or "N listening ports".
func listeningPortsText(n int) string {
	if n == 1 {
		return "1 listening port"
	}
	return strconv.Itoa(n) + " listening ports"
}

// sampleReserved is a history sample's reserved ports: "—" for a sample
// from before they were recorded.
func sampleReserved(list *string) string {
	if list == nil {
		return "—"
	}
	return portsText(*list)
}
