package cli

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

// The request log's fast handler against slog.TextHandler, the oracle:
// request lines as they come, then random records holding what it must
// hand over (quoting, other kinds, empty values, non-ASCII), each written
// by both and compared byte for byte, also after With and WithGroup.
func TestRequestLineHandlerMatchesTextHandler(t *testing.T) {
	strs := []string{"GET", "/api/v1/range", "127.0.0.1", "::1", "", "a b", "k=v", `q"uote`, `back\slash`,
		"tab\t", "nl\n", "\x00", "ünï", "\xff", "/static/app.6539008f827b.css", "-", "~", "\u00a0", "日本"}
	zones := []*time.Location{time.UTC, time.FixedZone("X", 5*3600+1800), time.FixedZone("Y", -7*3600)}
	r := rand.New(rand.NewPCG(3, 4))
	pick := func() string { return strs[r.IntN(len(strs))] }
	var records []slog.Record
	for i := range 2000 {
		at := time.Date(2026, 11, 27, 8, 0, 0, 0, zones[i%len(zones)]).Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
		if i%3 == 0 {
			at = at.Truncate(time.Second) // whole seconds and millis must keep three digits
		}
		msg := "request"
		if i%7 == 0 {
			msg = pick()
		}
		rec := slog.NewRecord(at, []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelDebug + 4}[i%3], msg, 0)
		rec.AddAttrs(slog.String("method", "GET"), slog.String("path", "/api/v1/range"), slog.Int("status", 200),
			slog.Int64("latency_ms", r.Int64N(5000)-1), slog.String("remote", "127.0.0.1"))
		if i%2 == 0 {
			rec.AddAttrs(slog.String(pick(), pick()))
		}
		if i%11 == 0 {
			rec.AddAttrs(slog.Bool("b", true), slog.Duration("d", time.Second), slog.Float64("f", 1.5))
		}
		records = append(records, rec)
	}
	records = append(records, slog.NewRecord(time.Time{}, slog.LevelInfo, "request", 0))
	fast := 0
	for i, rec := range records {
		for _, with := range []func(slog.Handler) slog.Handler{
			func(h slog.Handler) slog.Handler { return h },
			func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("svc", "x")}) },
			func(h slog.Handler) slog.Handler { return h.WithGroup("g") },
		} {
			var got, want bytes.Buffer
			lines := newLineBuffer(&got)
			if err := with(newRequestLineHandler(lines)).Handle(context.Background(), rec.Clone()); err != nil {
				t.Fatal(err)
			}
			lines.Flush()
			if err := with(slog.NewTextHandler(&want, nil)).Handle(context.Background(), rec.Clone()); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("record %d:\n got %q\nwant %q", i, got.String(), want.String())
			}
		}
		if _, ok := appendTextLine(nil, rec); ok {
			fast++
		}
	}
	// Most request lines must take the fast path, or it is dead code.
	if fast < len(records)/4 {
		t.Errorf("%d of %d records formatted by the fast path, want most plain ones", fast, len(records))
	}
}

func BenchmarkRequestLine(b *testing.B) {
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("method", "GET"), slog.String("path", "/api/v1/range"), slog.Int("status", 200),
		slog.Int64("latency_ms", 0), slog.String("remote", "127.0.0.1"))
	for name, handler := range map[string]func(*lineBuffer) slog.Handler{
		"fast": func(w *lineBuffer) slog.Handler { return newRequestLineHandler(w) },
		"slog": func(w *lineBuffer) slog.Handler { return slog.NewTextHandler(w, nil) },
	} {
		b.Run(name, func(b *testing.B) {
			lines := newLineBuffer(discard{})
			h := handler(lines)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = h.Handle(context.Background(), rec)
				if i%256 == 0 {
					lines.Flush() // as the server does, every 200 ms or 32 KiB
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
