package views

import (
	"context"
	"io"
	"time"

	"github.com/a-h/templ"
)

// Prerendered is the output of one of this package's components, kept to
// be written again: a handler that caches a costly part of a page (the
// history charts, see versionCache in package handlers) renders it once with
// Prerender and puts the result into later pages as a component. Its
// HTML can only come from Prerender, so whatever it writes was escaped by
// templ like any other render; it is templ output replayed, not HTML built
// by hand.
type Prerendered struct{ html string }

// Prerender renders c into a Prerendered.
func Prerender(ctx context.Context, c templ.Component) (Prerendered, error) {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := c.Render(ctx, buf); err != nil {
		return Prerendered{}, err
	}
	return Prerendered{buf.String()}, nil
}

// Render writes the HTML as it was rendered.
func (p Prerendered) Render(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, p.html)
	return err
}

// Len is the HTML's size in bytes.
func (p Prerendered) Len() int { return len(p.html) }

// ChartColumn is how much time one column of a chart's plot covers over
// span: the charts are drawn about one pixel a unit, so a chart drawn up
// to a moment less than this before now differs from one drawn up to now
// by less than a pixel.
func ChartColumn(span time.Duration) time.Duration {
	return span / (chartW - chartLeft - chartRight)
}
