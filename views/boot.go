package views

import (
	"strconv"

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
