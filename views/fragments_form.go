package views

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"

	"portpanel/db"
)

// The change form's and change table's repeated parts as fragments (see
// fragments.go).

// numberField is a port input with its label and inline error.
func numberField(name, label, value, msg string) templ.Component {
	return &portInput{name, label, value, msg}
}

type portInput struct{ name, label, value, msg string }

func (f *portInput) appendHTML(b []byte) []byte {
	b = append(b, `<div class="field field-port"><label for="`...)
	b = appendEsc(b, f.name)
	b = append(b, `">`...)
	b = appendEsc(b, f.label)
	b = append(b, `</label> <input id="`...)
	b = appendEsc(b, f.name)
	b = append(b, `" name="`...)
	b = appendEsc(b, f.name)
	b = append(b, `" type="text" inputmode="numeric" pattern="[0-9]*" autocomplete="off" required value="`...)
	b = appendEsc(b, f.value)
	b = append(b, `" class="num"`...)
	if f.msg != "" {
		b = append(b, ` aria-invalid="true" aria-describedby="`...)
		b = append(appendEsc(b, f.name), `-error"`...)
	}
	b = append(b, '>')
	if f.msg != "" {
		b = fieldError{f.name + "-error", f.msg}.appendHTML(b)
	}
	return append(b, "</div>"...)
}

func (f *portInput) Render(_ context.Context, w io.Writer) error { return render(w, f) }

// windowOptions are the auto-revert choices, the form's one selected.
type windowOptions int

func (sel windowOptions) appendHTML(b []byte) []byte {
	for _, secs := range ConfirmWindows {
		b = append(b, `<option value="`...)
		b = strconv.AppendInt(b, int64(secs), 10)
		b = append(b, '"')
		if secs == int(sel) {
			b = append(b, " selected"...)
		}
		b = append(b, '>')
		b = append(appendWindowLabel(b, secs), "</option>"...)
	}
	return b
}

func (sel windowOptions) Render(_ context.Context, w io.Writer) error { return render(w, sel) }

// appendWindowLabel appends confirmWindowLabel(secs).
func appendWindowLabel(b []byte, secs int) []byte {
	switch {
	case secs <= 0:
		return append(b, "Off"...)
	case secs == 60:
		return append(b, "1 minute"...)
	case secs%60 == 0:
		return append(strconv.AppendInt(b, int64(secs/60), 10), " minutes"...)
	}
	return append(strconv.AppendInt(b, int64(secs), 10), " seconds"...)
}

// changeRow is one change in a changeTable; l.Full adds the changes
// page's columns.
func changeRow(l *changeList, c *db.Change) templ.Component { return &listedChange{l, c} }

type listedChange struct {
	l *changeList
	c *db.Change
}

func (r *listedChange) appendHTML(b []byte) []byte {
	l, c := r.l, r.c
	b = append(b, `<tr data-testid="change-row" data-id="`...)
	b = strconv.AppendInt(b, c.ID, 10)
	b = append(b, `"><th scope="row"><a href="/changes/`...)
	b = strconv.AppendInt(b, c.ID, 10)
	b = append(b, `">#`...)
	b = strconv.AppendInt(b, c.ID, 10)
	b = append(b, `</a></th><td>`...)
	b = whenTime{c.CreatedAt, l.Now}.appendHTML(b)
	b = append(b, `</td><td>`...)
	b = appendEsc(b, c.User)
	b = append(b, `</td><td class="nowrap">`...)
	b = rangeChange{c.BeforeLow, c.BeforeHigh, c.Low, c.High}.appendHTML(b)
	b = append(b, `</td>`...)
	if l.Full {
		b = append(b, `<td class="num right">`...)
		b = append(appendThousands(b, c.High-c.Low+1), `</td>`...)
	}
	b = append(b, `<td>`...)
	b = append(pill(c.Status).appendHTML(b), `</td>`...)
	if l.Full {
		b = append(b, `<td class="reason">`...)
		b = append(appendEsc(b, c.Reason), `</td><td>`...)
		if c.RollbackOf != nil {
			b = append(b, `<a href="/changes/`...)
			b = strconv.AppendInt(b, *c.RollbackOf, 10)
			b = append(b, `">#`...)
			b = strconv.AppendInt(b, *c.RollbackOf, 10)
			b = append(b, `</a>`...)
		}
		b = append(b, `</td>`...)
	}
	b = append(b, `<td class="actions">`...)
	b = rollbackFor(*l, c).appendHTML(b)
	return append(b, `</td></tr>`...)
}

func (r *listedChange) Render(_ context.Context, w io.Writer) error { return render(w, r) }
