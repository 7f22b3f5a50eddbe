package handlers

import "testing"

func TestQuoteCannotForgeAuditStructure(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"alice", `"alice"`},
		{`x" from 10.0.0.1`, `"x\" from 10.0.0.1"`},
		{"a\nb\rc", `"a\nb\rc"`},
		{`back\slash`, `"back\\slash"`},
		{"bad \xff byte", `"bad ` + "\uFFFD" + ` byte"`},
	} {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
