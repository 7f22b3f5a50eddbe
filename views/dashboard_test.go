package views_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portpanel/sysctl"
	"portpanel/views"
)

func TestDashboardRange(t *testing.T) {
	for _, tt := range []struct {
		name      string
		low, high int
		value     string
		count     string
	}{
		{"default range counts both ends", 32768, 60999, "32768 – 60999", "28,232 ports"},
		{"wide range", 1024, 65535, "1024 – 65535", "64,512 ports"},
		{"single port", 40000, 40000, "40000 – 40000", "1 port"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := dashboard()
			p.Kernel.Range = sysctl.Range{Low: tt.low, High: tt.high}
			doc, _ := render(t, views.Dashboard(p))
			if got := text(doc.Find(testid("range-value"))); got != tt.value {
				t.Errorf("range = %q, want %q", got, tt.value)
			}
			if got := text(doc.Find(testid("port-count"))); got != tt.count {
				t.Errorf("count = %q, want %q", got, tt.count)
			}
		})
	}
}

func TestDashboardKernelNow(t *testing.T) {
	p := dashboard()
	doc, _ := render(t, views.Dashboard(p))
	if got := text(doc.Find(testid("reserved"))); got != "none" {
		t.Errorf("reserved = %q, want none", got)
	}
	if got := text(doc.Find(testid("unprivileged"))); got != "1024" {
		t.Errorf("unprivileged = %q", got)
	}
	p.Kernel.ReservedPorts = "8080,9000-9010"
	doc, _ = render(t, views.Dashboard(p))
	if got := text(doc.Find(testid("reserved"))); got != "8080,9000-9010" {
		t.Errorf("reserved = %q", got)
	}
}

func TestDashboardAfterReboot(t *testing.T) {
	for _, tt := range []struct {
		name      string
		boot      sysctl.Boot
		drift     bool
		value     string // substring of the boot value
		where     string
		wantDrift bool
	}{
		{"set in a file", sysctl.Boot{Reader: sysctl.ReaderSystemd, Set: true, Value: "32768 60999",
			Range: &sysctl.Range{Low: 32768, High: 60999}, Where: sysctl.Location{File: managed, Line: 2}},
			false, "32768 – 60999", managed + ":2", false},
		{"differs from the kernel", sysctl.Boot{Reader: sysctl.ReaderSystemd, Set: true, Value: "20000 60999",
			Range: &sysctl.Range{Low: 20000, High: 60999}, Where: sysctl.Location{File: "/etc/sysctl.conf", Line: 14}},
			true, "20000 – 60999", "/etc/sysctl.conf:14", true},
		{"not set anywhere", sysctl.Boot{Reader: sysctl.ReaderProcps},
			false, "32768 – 60999 kernel default (no file sets it)", "", false},
		{"every write refused", sysctl.Boot{Reader: sysctl.ReaderProcps, Refused: []sysctl.RefusedWrite{
			{Where: sysctl.Location{File: managed, Line: 1}, Value: "1000 30001", Reason: "the low end 1000 is below ip_unprivileged_port_start 1024"}}},
			false, "32768 – 60999 kernel default (the kernel refuses every value the files set)", "", false},
		{"dropped by -key", sysctl.Boot{Reader: sysctl.ReaderSystemd, Dropped: true, Where: sysctl.Location{File: "/etc/sysctl.d/99-x.conf", Line: 1}},
			false, "32768 – 60999 kernel default — dropped by a -net.ipv4.ip_local_port_range line", "/etc/sysctl.d/99-x.conf:1", false},
		{"invalid value", sysctl.Boot{Reader: sysctl.ReaderSystemd, Set: true, Value: "40000", Where: sysctl.Location{File: managed, Line: 1}},
			false, "not a valid range", managed + ":1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := dashboard()
			p.Boot.Boot, p.Drift = tt.boot, tt.drift
			doc, _ := render(t, views.Dashboard(p))
			if got := text(doc.Find(testid("boot-value"))); !strings.Contains(got, tt.value) {
				t.Errorf("boot value = %q, want it to contain %q", got, tt.value)
			}
			if got := text(doc.Find(testid("boot-where"))); got != tt.where {
				t.Errorf("where = %q, want %q", got, tt.where)
			}
			if got := doc.Find(testid("drift")).Length() == 1; got != tt.wantDrift {
				t.Errorf("drift mark = %v, want %v", got, tt.wantDrift)
			}
			if got := text(doc.Find(testid("boot-reader"))); got == "" || got == "unknown" {
				t.Errorf("reader = %q", got)
			}
		})
	}
}

// A write after the winner that the kernel refuses leaves the winner's
// value in place: the page shows the winner and lists each refusal with the
// kernel's reason, the value exactly as the file spells it.
func TestDashboardRefusedWrites(t *testing.T) {
	p := dashboard()
	doc, _ := render(t, views.Dashboard(p))
	if doc.Find(testid("boot-refused")).Length() != 0 {
		t.Error("refused list shown without refused writes")
	}
	p.Boot.Boot.Refused = []sysctl.RefusedWrite{
		{Where: sysctl.Location{File: "/etc/sysctl.d/50-x.conf", Line: 3}, Value: "20002 70000",
			Reason: "the high end 70000 is above 65535"},
		{Where: sysctl.Location{File: "/etc/sysctl.d/60-y.conf", Line: 1}, Value: "",
			Reason: "the value is empty"},
	}
	doc, _ = render(t, views.Dashboard(p))
	if got := text(doc.Find(testid("boot-value"))); got != "32768 – 60999" {
		t.Errorf("boot value = %q, want the winner's 32768 – 60999", got)
	}
	items := doc.Find(testid("boot-refused") + " li")
	want := []string{
		`⚠ Warning: /etc/sysctl.d/50-x.conf:3 sets "20002 70000": refused by the kernel — the high end 70000 is above 65535`,
		`⚠ Warning: /etc/sysctl.d/60-y.conf:1 sets "": refused by the kernel — the value is empty`,
	}
	if items.Length() != len(want) {
		t.Fatalf("refused items = %d, want %d", items.Length(), len(want))
	}
	for i, w := range want {
		if got := text(items.Eq(i)); got != w {
			t.Errorf("refused[%d] = %q, want %q", i, got, w)
		}
	}
}

// A file the reader reads at boot but portpanel could not makes the value
// uncertain; the page says so next to the value, not only in a list below.
func TestDashboardBootUncertain(t *testing.T) {
	p := dashboard()
	doc, _ := render(t, views.Dashboard(p))
	if doc.Find(testid("boot-uncertain")).Length() != 0 {
		t.Error("uncertainty shown for a certain boot value")
	}
	p.Boot.Boot.Uncertain = []string{
		"/etc/sysctl.d/70-big.conf is larger than 16 MiB: portpanel did not read it, but the boot reader does and it may set the range.",
		"/etc/sysctl.d/80-secret.conf cannot be read (permission denied) and is read after the winner: it may override it.",
	}
	doc, _ = render(t, views.Dashboard(p))
	box := doc.Find(testid("boot-uncertain"))
	if box.Length() != 1 {
		t.Fatalf("boot-uncertain blocks = %d, want 1", box.Length())
	}
	if got := text(box.Find("strong")); got != "Boot value uncertain:" {
		t.Errorf("heading = %q", got)
	}
	items := box.Find("li")
	if items.Length() != 2 || text(items.Eq(0)) != p.Boot.Boot.Uncertain[0] || text(items.Eq(1)) != p.Boot.Boot.Uncertain[1] {
		t.Errorf("uncertain items = %q", text(items))
	}
	if box.Closest(`[aria-labelledby="boot-h"]`).Length() != 1 {
		t.Error("uncertainty is not in the After reboot column")
	}
}

func TestDashboardWarnings(t *testing.T) {
	p := dashboard()
	doc, _ := render(t, views.Dashboard(p))
	if doc.Find(testid("warnings")).Length() != 0 {
		t.Error("warnings shown without warnings")
	}
	p.Warnings = []string{"low and high have the same parity", "/etc/sysctl.conf overrides the managed file"}
	doc, _ = render(t, views.Dashboard(p))
	items := doc.Find(testid("warnings") + " li")
	if items.Length() != 2 {
		t.Fatalf("warnings = %d, want 2", items.Length())
	}
	if got := text(items.First()); got != "⚠ Warning: low and high have the same parity" {
		t.Errorf("warning = %q (needs an icon and words, not colour alone)", got)
	}
	if got := text(doc.Find(testid("managed-file"))); got != managed {
		t.Errorf("managed file = %q", got)
	}
}

func TestDashboardChangeForm(t *testing.T) {
	t.Run("viewer gets no form and no rollback", func(t *testing.T) {
		p := dashboard()
		p.CanChange, p.Role = false, "viewer"
		doc, _ := render(t, views.Dashboard(p))
		if doc.Find(testid("change-form")).Length() != 0 {
			t.Error("change form shown to a viewer")
		}
		if doc.Find(testid("rollback")).Length() != 0 {
			t.Error("rollback shown to a viewer")
		}
	})
	t.Run("prefilled with the form values", func(t *testing.T) {
		doc, _ := render(t, views.Dashboard(dashboard()))
		f := doc.Find(testid("change-form"))
		if a, _ := f.Attr("action"); a != "/changes" {
			t.Errorf("action = %q", a)
		}
		for name, want := range map[string]string{"low": "32768", "high": "60999"} {
			in := f.Find(`input[name="` + name + `"]`)
			if v, _ := in.Attr("value"); v != want {
				t.Errorf("%s = %q, want %q", name, v, want)
			}
			if m, _ := in.Attr("inputmode"); m != "numeric" {
				t.Errorf("%s inputmode = %q", name, m)
			}
		}
		r := f.Find(`input[name="reason"]`)
		if _, ok := r.Attr("required"); !ok {
			t.Error("reason not required")
		}
		if m, _ := r.Attr("maxlength"); m != "500" {
			t.Errorf("reason maxlength = %q", m)
		}
		if got := text(f.Find(`button[type="submit"]`)); got != "Review change" {
			t.Errorf("button = %q, want Review change (submitting reviews, it does not apply)", got)
		}
		if f.Find(testid("review")).Length() != 1 {
			t.Error("no review button")
		}
	})
	t.Run("carries the range the author saw", func(t *testing.T) {
		p := dashboard()
		p.Form.BaseLow, p.Form.BaseHigh = "32768", "60999"
		doc, _ := render(t, views.Dashboard(p))
		f := doc.Find(testid("change-form"))
		for name, want := range map[string]string{"base_low": "32768", "base_high": "60999"} {
			if v, ok := f.Find(`input[type="hidden"][name="` + name + `"]`).Attr("value"); !ok || v != want {
				t.Errorf("%s = %q, %v; want %q", name, v, ok, want)
			}
		}
	})
	t.Run("approval note only when approval is required", func(t *testing.T) {
		p := dashboard()
		doc, _ := render(t, views.Dashboard(p))
		if doc.Find(testid("approval-note")).Length() != 0 {
			t.Error("approval note without approval")
		}
		p.RequireApproval = true
		doc, _ = render(t, views.Dashboard(p))
		if got := text(doc.Find(testid("approval-note"))); !strings.Contains(got, "approval by a second person") {
			t.Errorf("approval note = %q", got)
		}
	})
	t.Run("errors sit next to their fields", func(t *testing.T) {
		p := dashboard()
		p.Form.Errors = map[string]string{"low": "low (40000) must not exceed high (30000)"}
		p.Form.Error = "The kernel refused the range."
		doc, _ := render(t, views.Dashboard(p))
		in := doc.Find(`input[name="low"]`)
		id, _ := in.Attr("aria-describedby")
		if got := text(doc.Find("#" + id)); !strings.Contains(got, "must not exceed high") {
			t.Errorf("low's described error = %q", got)
		}
		if v, _ := in.Attr("aria-invalid"); v != "true" {
			t.Error("low not aria-invalid")
		}
		if _, ok := doc.Find(`input[name="high"]`).Attr("aria-invalid"); ok {
			t.Error("high marked invalid")
		}
		if got := text(doc.Find(testid("form-error"))); !strings.Contains(got, "The kernel refused the range.") {
			t.Errorf("form error = %q", got)
		}
	})
}

func TestDashboardRecentChanges(t *testing.T) {
	doc, _ := render(t, views.Dashboard(dashboard()))
	rows := doc.Find(testid("change-row"))
	if rows.Length() != 3 {
		t.Fatalf("rows = %d, want 3", rows.Length())
	}
	for _, tt := range []struct {
		name         string
		row          int
		rollback     bool
		rolledBackBy string
		status       string
	}{
		{"applied change offers rollback", 0, true, "", "✓ applied"},
		{"rolled back change links its rollback", 1, false, "rolled back by #3", "✓ applied"},
		{"failed change has no rollback", 2, false, "", "✗ failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := rows.Eq(tt.row)
			if got := r.Find(testid("rollback")).Length() == 1; got != tt.rollback {
				t.Errorf("rollback button = %v, want %v", got, tt.rollback)
			}
			if got := text(r.Find(testid("rolled-back-by"))); got != tt.rolledBackBy {
				t.Errorf("rolled back by = %q, want %q", got, tt.rolledBackBy)
			}
			if got := text(r.Find(testid("status"))); got != tt.status {
				t.Errorf("status = %q, want %q", got, tt.status)
			}
		})
	}
	first := rows.First()
	if h, _ := first.Find(`a[href="/changes/3"]`).Attr("href"); h == "" {
		t.Error("no link to /changes/3")
	}
	if got := text(first); !strings.Contains(got, "20000 – 60999 → 32768 – 60999") || !strings.Contains(got, "14:02 UTC · 3 min ago") {
		t.Errorf("row = %q", got)
	}
	f := first.Find("form")
	if a, _ := f.Attr("action"); a != "/changes/3/rollback" {
		t.Errorf("rollback action = %q", a)
	}
	if v, _ := f.Find(`input[type="hidden"][name="reason"]`).Attr("value"); v != "Roll back change #3" {
		t.Errorf("rollback reason = %q", v)
	}
}

func TestDashboardEmpty(t *testing.T) {
	p := dashboard()
	p.Recent = nil
	doc, _ := render(t, views.Dashboard(p))
	if got := text(doc.Find(testid("empty"))); got != "No changes yet. Changes made here or by hand with sysctl appear in History." {
		t.Errorf("empty state = %q", got)
	}
}

func TestDashboardAutoRevertSelect(t *testing.T) {
	for _, tt := range []struct {
		name, value, selected string
	}{
		{"defaults to off", "", "Off"},
		{"off", "0", "Off"},
		{"keeps the chosen window", "900", "15 minutes"},
		{"an hour", "3600", "60 minutes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := dashboard()
			p.Form.ConfirmWithin = tt.value
			doc, _ := render(t, views.Dashboard(p))
			sel := doc.Find(testid("change-form") + ` select[name="confirm_within"]`)
			id, _ := sel.Attr("id")
			if got := text(doc.Find(`label[for="` + id + `"]`)); got != "Auto-revert unless confirmed" {
				t.Errorf("label = %q", got)
			}
			var opts []string
			sel.Find("option").Each(func(_ int, o *goquery.Selection) {
				v, _ := o.Attr("value")
				opts = append(opts, v+"="+text(o))
			})
			if got := strings.Join(opts, " "); got != "0=Off 120=2 minutes 300=5 minutes 900=15 minutes 3600=60 minutes" {
				t.Errorf("options = %q", got)
			}
			if s := sel.Find("option[selected]"); s.Length() != 1 || text(s) != tt.selected {
				t.Errorf("selected = %q (%d), want %q", text(s), s.Length(), tt.selected)
			}
		})
	}
	t.Run("error sits next to the select", func(t *testing.T) {
		p := dashboard()
		p.Form.ConfirmWithin = "7"
		p.Form.Errors = map[string]string{"confirm_within": "Pick an auto-revert time from the list."}
		doc, _ := render(t, views.Dashboard(p))
		sel := doc.Find(`select[name="confirm_within"]`)
		if v, _ := sel.Attr("aria-invalid"); v != "true" {
			t.Error("select not aria-invalid")
		}
		if got := text(doc.Find(testid("confirm_within-error"))); !strings.Contains(got, "Pick an auto-revert time") {
			t.Errorf("error = %q", got)
		}
	})
}
