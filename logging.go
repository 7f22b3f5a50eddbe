package main

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
