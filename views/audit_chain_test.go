package views_test

import (
	"strings"
	"testing"
	"time"

	"portpanel/views"
)

// TestAuditChainSaysWhatWasVerified: when the page knows when the whole
// chain was last verified, it says so and how many events were verified
// one by one since, as old events are re-read only by full checks.
func TestAuditChainSaysWhatWasVerified(t *testing.T) {
	for _, tt := range []struct {
		name  string
		newer int
		want  []string
	}{
		{"none since", 0, []string{"✓ Hash chain verified (1,234 events): in full", "; 0 newer events verified since, one by one."}},
		{"one since", 1, []string{"; 1 newer event verified since"}},
		{"many since", 1200, []string{"; 1,200 newer events verified since"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := audit()
			p.VerifiedFullAt, p.VerifiedNewer = p.Now.Add(-2*time.Hour), tt.newer
			doc, _ := render(t, views.Audit(p))
			c := doc.Find(testid("chain"))
			got := text(c)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("chain = %q, want it to contain %q", got, w)
				}
			}
			if dt, _ := c.Find("time").Attr("datetime"); dt != p.VerifiedFullAt.UTC().Format(time.RFC3339) {
				t.Errorf("time of the full check = %q, want %s", dt, p.VerifiedFullAt.UTC().Format(time.RFC3339))
			}
		})
	}
}
