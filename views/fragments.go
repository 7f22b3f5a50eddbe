package views

import (
	"context"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"

	"portpanel/db"
)

// The leaves below are written in Go, not templ: every list row and form
// repeats them, and templ's generated code costs a few allocations per
// expression (fmt.Sprint of each text value, a boxed value per attribute,
// two context values per component). For these leaves that was a third of
// the dashboard's render time (issue 6: the whole request gets about 40 µs).
// Each writes exactly the bytes its templ version did; the templates call
// them with @ as before.

// scratch holds the buffers fragments are built in, so a fragment costs
// one Write and no allocation however many values it formats.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// fragment is a component that appends its HTML to a buffer.
type fragment interface {
	appendHTML(b []byte) []byte
}

// render writes f through a pooled buffer. It is generic so that f is not
// boxed again (an allocation) on the way.
func render[F fragment](w io.Writer, f F) error {
	p := scratch.Get().(*[]byte)
	b := f.appendHTML((*p)[:0])
	_, err := w.Write(b)
	// A buffer grown by an unusually long fragment is left to the GC
	// rather than kept for good.
	if cap(b) <= 64<<10 {
		*p = b[:0]
		scratch.Put(p)
	}
	return err
}

// appendEsc appends s escaped as templ (html.EscapeString) escapes text
// and attribute values.
func appendEsc(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		case '"':
			r = "&#34;"
		default:
			continue
		}
		b = append(append(b, s[last:i]...), r...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// escapeFrom escapes what was appended to b since n. Numbers and fixed
// words need no escaping: only the rare tail that does is copied.
func escapeFrom(b []byte, n int) []byte {
	for _, c := range b[n:] {
		switch c {
		case '&', '\'', '<', '>', '"':
			tail := string(b[n:])
			return appendEsc(b[:n], tail)
		}
	}
	return b
}

// appendRange appends rangeText(low, high) without building the string.
func appendRange(b []byte, low, high int) []byte {
	b = strconv.AppendInt(b, int64(low), 10)
	b = append(b, " – "...)
	return strconv.AppendInt(b, int64(high), 10)
}

// csrfField goes into every form.
func csrfField(token string) templ.Component { return csrfInput(token) }

type csrfInput string

func (t csrfInput) appendHTML(b []byte) []byte {
	b = append(b, `<input type="hidden" name="csrf" value="`...)
	return append(appendEsc(b, string(t)), `">`...)
}

func (t csrfInput) Render(_ context.Context, w io.Writer) error { return render(w, t) }

// when shows an absolute UTC time with the relative time beside it.
func when(t, now time.Time) templ.Component { return whenTime{t, now} }

type whenTime struct{ t, now time.Time }

func (v whenTime) appendHTML(b []byte) []byte {
	t := v.t.UTC()
	b = append(b, `<span class="when"><time datetime="`...)
	b = t.AppendFormat(b, time.RFC3339)
	b = append(b, `" title="`...)
	b = t.AppendFormat(b, fullTimeLayout)
	b = append(b, `">`...)
	b = appendAbsTime(b, t, v.now)
	b = append(b, "</time> "...)
	if r := relTime(v.t, v.now); r != "" {
		b = append(b, `<span class="rel" data-ts="`...)
		b = t.AppendFormat(b, time.RFC3339)
		b = append(b, `">· `...)
		b = append(appendEsc(b, r), "</span>"...)
	}
	return append(b, "</span>"...)
}

func (v whenTime) Render(_ context.Context, w io.Writer) error { return render(w, v) }

// statusPill shows a change's status in words with an icon; colour only helps.
func statusPill(status string) templ.Component { return pill(status) }

type pill string

func (s pill) appendHTML(b []byte) []byte {
	status := string(s)
	b = append(b, `<span class="pill`...)
	if c := statusClass(status); c != "" {
		b = append(append(b, ' '), c...)
	}
	b = append(b, `" data-testid="status">`...)
	if icon := statusIcon(status); icon != "" {
		b = append(append(append(b, `<span aria-hidden="true">`...), icon...), "</span> "...)
	}
	return append(appendEsc(b, status), "</span>"...)
}

func (s pill) Render(_ context.Context, w io.Writer) error { return render(w, s) }

// beforeAfter is "32768 – 60999 → 40000 – 50000".
func beforeAfter(c db.Change) templ.Component {
	return rangeChange{c.BeforeLow, c.BeforeHigh, c.Low, c.High}
}

type rangeChange struct{ beforeLow, beforeHigh, low, high int }

func (r rangeChange) appendHTML(b []byte) []byte {
	b = append(b, `<span class="num nowrap">`...)
	b = appendRange(b, r.beforeLow, r.beforeHigh)
	b = append(b, `</span> <span class="arrow" aria-label="to">→</span> <span class="num nowrap">`...)
	b = appendRange(b, r.low, r.high)
	return append(b, "</span>"...)
}

func (r rangeChange) Render(_ context.Context, w io.Writer) error { return render(w, r) }

// rollbackFor is a row's last cell: "rolled back by #M", a Rollback
// button, or nothing.
func rollbackFor(l changeList, c *db.Change) rollback {
	by, done := l.RolledBackBy[c.ID]
	return rollback{id: c.ID, by: by, done: done, offer: !done && l.canRollBack(*c),
		csrf: l.CSRF, beforeLow: c.BeforeLow, beforeHigh: c.BeforeHigh}
}

type rollback struct {
	id, by                int64
	done, offer           bool
	csrf                  string
	beforeLow, beforeHigh int
}

func (r rollback) appendHTML(b []byte) []byte {
	switch {
	case r.done:
		b = append(b, `<span class="muted" data-testid="rolled-back-by">rolled back by <a href="/changes/`...)
		b = strconv.AppendInt(b, r.by, 10)
		b = append(b, `">#`...)
		b = strconv.AppendInt(b, r.by, 10)
		b = append(b, "</a></span>"...)
	case r.offer:
		b = append(b, `<form method="post" action="/changes/`...)
		b = strconv.AppendInt(b, r.id, 10)
		b = append(b, `/rollback" class="inline">`...)
		b = csrfInput(r.csrf).appendHTML(b)
		b = append(b, `<input type="hidden" name="reason" value="Roll back change #`...)
		b = strconv.AppendInt(b, r.id, 10)
		b = append(b, `"> <button type="submit" class="btn btn-small" data-testid="rollback" aria-label="Roll back change #`...)
		b = strconv.AppendInt(b, r.id, 10)
		b = append(b, ` to `...)
		b = appendRange(b, r.beforeLow, r.beforeHigh)
		b = append(b, `" title="Restore `...)
		b = appendRange(b, r.beforeLow, r.beforeHigh)
		b = append(b, `">Roll back</button></form>`...)
	}
	return b
}

// levelPill says a risk level in words with an icon.
func levelPill(level string) templ.Component { return riskPill(level) }

type riskPill string

func (l riskPill) appendHTML(b []byte) []byte {
	icon, label := levelText(string(l))
	b = append(b, `<span class="`...)
	b = append(b, levelClass(string(l))...)
	b = append(b, `" data-testid="level" data-level="`...)
	b = appendEsc(b, string(l))
	b = append(b, `"><span aria-hidden="true">`...)
	b = append(b, icon...)
	b = append(b, "</span> "...)
	b = append(b, label...)
	return append(b, "</span>"...)
}

func (l riskPill) Render(_ context.Context, w io.Writer) error { return render(w, l) }

// fieldErr renders a field's inline error with the id its input points at.
func fieldErr(id, msg string) templ.Component { return fieldError{id, msg} }

type fieldError struct{ id, msg string }

func (f fieldError) appendHTML(b []byte) []byte {
	if f.msg == "" {
		return b
	}
	b = append(b, `<p class="field-error" id="`...)
	b = appendEsc(b, f.id)
	b = append(b, `" data-testid="`...)
	b = appendEsc(b, f.id)
	b = append(b, `"><span aria-hidden="true">✗ </span>`...)
	b = appendEsc(b, f.msg)
	return append(b, "</p>"...)
}

func (f fieldError) Render(_ context.Context, w io.Writer) error { return render(w, f) }
