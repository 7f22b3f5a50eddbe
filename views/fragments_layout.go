package views

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"
)

// The frame's navigation as a fragment (see fragments.go): a link per
// section on every page.

// navLinks is the main navigation of c's user, the current section marked.
func navLinks(c *Chrome) templ.Component { return (*navBar)(c) }

type navBar Chrome

func (c *navBar) appendHTML(b []byte) []byte {
	for _, n := range navFor((*Chrome)(c)) {
		b = append(b, `<a href="`...)
		b = appendEsc(b, n.Href)
		b = append(b, '"')
		if n.Key == c.Nav {
			b = append(b, ` aria-current="page"`...)
		}
		b = append(b, '>')
		b = append(appendEsc(b, n.Label), ' ')
		if n.Key == pendingItem.Key && c.Pending > 0 {
			b = append(b, `<span class="nav-count" data-testid="pending-count">`...)
			b = strconv.AppendInt(b, int64(c.Pending), 10)
			b = append(b, `</span><span class="sr-only"> waiting</span>`...)
		}
		b = append(b, "</a>"...)
	}
	return b
}

func (c *navBar) Render(_ context.Context, w io.Writer) error { return render(w, c) }
