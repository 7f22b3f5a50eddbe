package cli

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogger returns the server's logger writing to w in format: "text"
// (key=value, for a terminal or journalctl) or "json" (one object per line,
// for a log shipper). The format comes from a flag, so an unknown one is a
// command-line error that names the flag.
func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// newRequestLogger is newLogger for the request log: in the text format its
// lines are formatted by requestLineHandler, the same bytes in less time.
func newRequestLogger(format string, w *lineBuffer) (*slog.Logger, error) {
	if format == "text" {
		return slog.New(newRequestLineHandler(w)), nil
	}
	return newLogger(format, w)
}
