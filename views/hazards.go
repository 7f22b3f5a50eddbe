package views

import (
	"slices"
	"strconv"

	"portpanel/sysctl/usage"
)

func unreservedCount(ls []usage.Collision) int {
	n := 0
	for _, l := range ls {
		if !l.Reserved {
			n++
		}
	}
	return n
}

// listeningPorts is "1 listening port is" or "3 listening ports are".
func listeningPorts(n int) string {
	if n == 1 {
		return "1 listening port is"
	}
	return strconv.Itoa(n) + " listening ports are"
}

func hasString(list []string, s string) bool { return slices.Contains(list, s) }

// approveFormID is the id of proposal id's approve form, which checkboxes
// elsewhere on the page join with their form attribute.
func approveFormID(id int64) string { return "approve-form-" + strconv.FormatInt(id, 10) }
