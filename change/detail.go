package change

import (
	"fmt"

	"portpanel/db"
	"portpanel/sysctl"
)

// detail is how the audit log describes c.
func detail(c db.Change) string {
	d := fmt.Sprintf("%s %d %d → %d %d", sysctl.Key, c.BeforeLow, c.BeforeHigh, c.Low, c.High)
	if c.ReservedPorts != nil {
		d += fmt.Sprintf(", %s %s → %s", sysctl.ReservedKey, portsText(*c.BeforeReservedPorts), portsText(*c.ReservedPorts))
	}
	if c.Host != "" {
		d += " (" + c.File + " on host " + c.Host + ")"
	} else {
		d += " (" + c.File + ")"
	}
	if c.RollbackOf != nil {
		d += fmt.Sprintf(", rolling back change #%d", *c.RollbackOf)
	}
	if c.Emergency {
		d += ", emergency: applied without approval"
	}
	if c.ConfirmWithin > 0 {
		d += fmt.Sprintf(", reverts unless confirmed within %s", c.ConfirmWithin)
	}
	d += hazardDetail(c)
	d += ". Reason: " + c.Reason
	if c.Error != "" {
		d += ". Failed: " + c.Error
	}
	return d
}

// targetText is what t sets, in words.
func targetText(t sysctl.Target) string {
	s := rangeText(t.Range)
	if t.Reserved != nil {
		s += " with reserved ports " + portsText(*t.Reserved)
	}
	return s
}

// diffDetail appends the file diff to an audit detail, so the audit entry
// itself shows what was written.
func diffDetail(diff string) string {
	if diff == "" {
		return ""
	}
	return "\n" + diff
}
