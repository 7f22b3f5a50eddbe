package views

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"

	"portpanel/sysctl"
)

// The dashboard's "After reboot" column and the warning lists as
// fragments (see fragments.go).

// bootFacts is the "After reboot" column: what the boot reader will apply.
func bootFacts(p *DashboardPage) templ.Component { return (*bootColumn)(p) }

type bootColumn DashboardPage

func (p *bootColumn) appendHTML(b []byte) []byte {
	boot := &p.Boot.Boot
	b = append(b, `<section class="facts`...)
	if p.Drift {
		b = append(b, ` facts-drift`...)
	}
	b = append(b, `" aria-labelledby="boot-h"><h2 id="boot-h">After reboot `...)
	if p.Drift {
		b = append(b, `<span class="badge badge-warn" data-testid="drift"><span aria-hidden="true">≠ </span>differs from now</span>`...)
	}
	b = append(b, `</h2><dl class="kv"><dt>Value</dt><dd data-testid="boot-value">`...)
	switch {
	case boot.Dropped:
		b = append(b, `<span class="muted">not set</span> — dropped by a <code>-`...)
		b = appendEsc(b, sysctl.Key)
		b = append(b, `</code> line; the kernel default applies`...)
	case !boot.Set:
		b = append(b, `<span class="muted">not set in any file — the kernel default applies</span>`...)
	case boot.Range != nil:
		b = append(b, `<span class="num">`...)
		b = append(appendRange(b, boot.Range.Low, boot.Range.High), `</span>`...)
	default:
		b = append(b, `<code>`...)
		b = appendEsc(b, boot.Value)
		b = append(b, `</code> <span class="error-text">— not a valid range; the kernel would refuse it</span>`...)
	}
	b = append(b, `</dd>`...)
	if boot.Where.File != "" {
		if boot.Dropped {
			b = append(b, `<dt>Dropped in</dt>`...)
		} else {
			b = append(b, `<dt>Set in</dt>`...)
		}
		// "file:line", or just the file when the line is unknown.
		b = append(b, `<dd><code data-testid="boot-where">`...)
		b = appendEsc(b, boot.Where.File)
		if boot.Where.Line > 0 {
			b = strconv.AppendInt(append(b, ':'), int64(boot.Where.Line), 10)
		}
		b = append(b, `</code></dd>`...)
	}
	b = append(b, `<dt>Read by</dt><dd data-testid="boot-reader">`...)
	b = appendEsc(b, readerName(bootReader(p.Boot)))
	b = append(b, `</dd>`...)
	if p.File != "" {
		b = append(b, `<dt>Managed file</dt><dd><code data-testid="managed-file">`...)
		b = append(appendEsc(b, p.File), `</code></dd>`...)
	}
	b = append(b, `</dl>`...)
	if len(boot.Files) > 0 {
		b = append(b, `<details class="small"><summary>Files read at boot (`...)
		b = strconv.AppendInt(b, int64(len(boot.Files)), 10)
		b = append(b, `)</summary><ol class="files">`...)
		for _, f := range boot.Files {
			b = append(appendEsc(append(b, `<li><code>`...), f), `</code></li>`...)
		}
		b = append(b, `</ol></details>`...)
	}
	b = warnings{boot.Problems, "boot-problems"}.appendHTML(b)
	return append(b, `</section>`...)
}

func (p *bootColumn) Render(_ context.Context, w io.Writer) error { return render(w, p) }

// warningList shows warnings with an icon, never colour alone.
func warningList(items []string, testid string) templ.Component { return &warnings{items, testid} }

type warnings struct {
	items  []string
	testid string
}

func (l warnings) appendHTML(b []byte) []byte {
	if len(l.items) == 0 {
		return b
	}
	b = append(b, `<ul class="warnings" data-testid="`...)
	b = append(appendEsc(b, l.testid), `">`...)
	for _, w := range l.items {
		b = append(b, `<li><span class="icon" aria-hidden="true">⚠</span> <span class="sr-only">Warning: </span>`...)
		b = append(appendEsc(b, w), `</li>`...)
	}
	return append(b, `</ul>`...)
}

func (l *warnings) Render(_ context.Context, w io.Writer) error { return render(w, l) }
