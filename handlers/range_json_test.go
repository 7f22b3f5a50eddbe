package handlers

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"portpanel/sysctl"
)

// The hand encoder of GET /api/v1/range against encoding/json, the oracle:
// fixed cases for each kind of string encoding/json escapes, then random
// answers. The field count is checked too, so a field added to the struct
// without its line in appendJSON fails here.
func TestRangeJSONMatchesEncodingJSON(t *testing.T) {
	if n := reflect.TypeFor[rangeStatusJSON]().NumField(); n != 9 {
		t.Fatalf("rangeStatusJSON has %d fields, appendJSON writes 9: add the new one to both and here", n)
	}
	strs := []string{"", "/etc/sysctl.d/90-portpanel.conf", `a"b`, `back\slash`, "tab\there", "nl\n", "\x00\x1f\x7f",
		"<script>&amp;</script>", "ünïcødé", "line\u2028sep\u2029", "bad\xffutf8\xc3", "32768-32769,40000", "日本語"}
	cases := []rangeStatusJSON{
		{},
		{Warnings: []string{}},
		{Boot: &bootJSON{Low: 1024, High: 65535, File: "/etc/sysctl.conf", Line: 12}, Drift: true, FileOverridden: true,
			OverriddenBy: &sysctl.Location{File: "/etc/sysctl.d/99-x.conf", Line: 3}, ReservedPorts: "8080,9000-9010",
			Runtime: rangeJSON{32768, 60999}, Size: 28232, UnprivilegedPortStart: 1024, Warnings: []string{"a", "b"}},
		{Runtime: rangeJSON{-1, 1 << 40}, Size: -5},
	}
	for _, s := range strs {
		cases = append(cases, rangeStatusJSON{Boot: &bootJSON{File: s}, OverriddenBy: &sysctl.Location{File: s}, ReservedPorts: s, Warnings: []string{s, s}})
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return strs[r.IntN(len(strs))] }
	for range 500 {
		c := rangeStatusJSON{Drift: r.IntN(2) == 0, FileOverridden: r.IntN(2) == 0, ReservedPorts: pick(),
			Runtime: rangeJSON{r.IntN(70000), r.IntN(70000)}, Size: r.IntN(70000), UnprivilegedPortStart: r.IntN(70000)}
		if r.IntN(3) > 0 {
			c.Boot = &bootJSON{Low: r.IntN(70000), High: r.IntN(70000), File: pick(), Line: r.IntN(1000)}
		}
		if r.IntN(3) == 0 {
			c.OverriddenBy = &sysctl.Location{File: pick(), Line: r.IntN(1000)}
		}
		if n := r.IntN(4); n > 0 {
			c.Warnings = make([]string, n-1)
			for i := range c.Warnings {
				c.Warnings[i] = pick()
			}
		}
		cases = append(cases, c)
	}
	for i, c := range cases {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(c); err != nil {
			t.Fatal(err)
		}
		if got := c.appendJSON(nil); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("case %d %+v:\n got %s\nwant %s", i, c, got, want.Bytes())
		}
	}
}

func BenchmarkRangeJSON(b *testing.B) {
	c := rangeStatusJSON{Boot: &bootJSON{Low: 32768, High: 60999, File: "/etc/sysctl.d/90-portpanel.conf", Line: 2},
		Runtime: rangeJSON{32768, 60999}, Size: 28232, UnprivilegedPortStart: 1024, Warnings: []string{}}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = c.appendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			_ = json.NewEncoder(&buf).Encode(c)
		}
	})
}
