package cli

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// requestLineHandler writes the request log's lines exactly as
// slog.TextHandler does (TestRequestLineHandlerMatchesTextHandler), in a
// third of its time: one line per request made slog's generic formatting
// a few per cent of an API call under load (issue 6). It formats only
// what request lines hold, plain strings and integers; any other record
// (a quoted value, another kind, attributes or groups added with With)
// goes to slow, a TextHandler on the same writer.
type requestLineHandler struct {
	// w takes whole lines from many goroutines at once. Not an
	// io.Writer: through an interface the line's buffer would escape to
	// the heap, one allocation per request.
	w    *lineBuffer
	slow slog.Handler
}

func newRequestLineHandler(w *lineBuffer) *requestLineHandler {
	return &requestLineHandler{w: w, slow: slog.NewTextHandler(w, nil)}
}

func (h *requestLineHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.slow.Enabled(ctx, l)
}

func (h *requestLineHandler) WithAttrs(as []slog.Attr) slog.Handler { return h.slow.WithAttrs(as) }
func (h *requestLineHandler) WithGroup(name string) slog.Handler    { return h.slow.WithGroup(name) }

func (h *requestLineHandler) Handle(ctx context.Context, r slog.Record) error {
	var small [256]byte
	b, ok := appendTextLine(small[:0], r)
	if !ok {
		return h.slow.Handle(ctx, r)
	}
	_, err := h.w.Write(b)
	return err
}

// appendTextLine appends r as TextHandler would write it, or reports false
// if r holds something it leaves to TextHandler.
func appendTextLine(b []byte, r slog.Record) ([]byte, bool) {
	if r.Time.IsZero() || !plain(r.Message) {
		return b, false
	}
	b = append(b, "time="...)
	b = appendRFC3339Millis(b, r.Time)
	b = append(b, " level="...)
	b = append(b, r.Level.String()...)
	b = append(b, " msg="...)
	b = append(b, r.Message...)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		if !plain(a.Key) {
			ok = false
			return false
		}
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		switch v := a.Value; v.Kind() {
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindString:
			if !plain(v.String()) {
				ok = false
				return false
			}
			b = append(b, v.String()...)
		default:
			ok = false
			return false
		}
		return true
	})
	return append(b, '\n'), ok
}

// plain reports whether TextHandler writes s as it is: not empty, and only
// printable ASCII other than space, '=', '"' and '\' (TextHandler quotes
// more than that set allows, never less; backslash it leaves alone, but
// it is rare enough to hand over too).
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '=' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendRFC3339Millis is log/slog's: RFC 3339 with exactly three digits of
// milliseconds, in the time's own zone.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	// Format according to time.RFC3339Nano since it is highly optimized,
	// but truncate it to use millisecond resolution. That format trims
	// trailing zeros, so add a tenth of a millisecond to be sure of four
	// digits after the period, and drop the fourth.
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}
