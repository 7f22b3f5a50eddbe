package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"portpanel/db"
	"portpanel/sysctl"
)

// diffWritten is whether a change's diff reached the file; before that
// (and when it failed) the diff is only what was planned.
func diffWritten(status string) bool {
	switch status {
	case db.StatusApplied, db.StatusConfirmed, db.StatusReverted:
		return true
	}
	return false
}

// decidedLabel names who decided on a proposal; only a rejection stops the
// lifecycle, every later status followed an approval.
func decidedLabel(status string) string {
	switch status {
	case db.StatusRejected:
		return "Rejected by"
	case db.StatusProposed:
		return "Decided by"
	}
	return "Approved by"
}

// confirmWindowLabel is an auto-revert choice in words: 0 → "Off", 300 → "5 minutes".
func confirmWindowLabel(secs int) string {
	switch {
	case secs <= 0:
		return "Off"
	case secs == 60:
		return "1 minute"
	case secs%60 == 0:
		return strconv.Itoa(secs/60) + " minutes"
	}
	return strconv.Itoa(secs) + " seconds"
}

// confirmOption is a choice of the auto-revert select, its texts made
// once: every dashboard lists them.
type confirmOption struct {
	Secs         int
	Value, Label string
}

var confirmOptions = func() []confirmOption {
	var opts []confirmOption
	for _, secs := range ConfirmWindows {
		opts = append(opts, confirmOption{secs, strconv.Itoa(secs), confirmWindowLabel(secs)})
	}
	return opts
}()

// formWindow is the form's confirm_within in seconds; "" (a form from
// before the field existed) means off.
func formWindow(v string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(v))
	return n
}

// countdown is the time left until deadline as "m:ss left" (h:mm:ss over
// an hour), rounded up so it reads 0:00 only once the deadline has come;
// static/app.js keeps it ticking with the same format.
func countdown(deadline, now time.Time) string {
	d := deadline.Sub(now)
	if d < 0 {
		d = 0
	}
	s := int((d + time.Second - 1) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d left", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d left", s/60, s%60)
}

// clockTime is a deadline to the second: "14:10:00 UTC".
func clockTime(t time.Time) string {
	return t.UTC().Format("15:04:05 UTC")
}

// portDelta says how the number of ports changes: "12,768 more".
func portDelta(before, after sysctl.Range) string {
	d := after.Size() - before.Size()
	switch {
	case d > 0:
		return thousands(d) + " more"
	case d < 0:
		return thousands(-d) + " fewer"
	}
	return "same number"
}

// splitDetail separates an audit detail's summary line from what follows
// it (the file diff of a change).
func splitDetail(s string) (head, rest string) {
	head, rest, _ = strings.Cut(s, "\n")
	return head, rest
}

// actionURL is where a form acting on change id posts: "/changes/3/confirm".
func actionURL(id int64, action string) string {
	return changeURL(id) + "/" + action
}
