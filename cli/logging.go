package cli

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"sync"
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

// batchWriter holds the request log's lines and writes them out in
// batches: when its buffer is full and when Flush is called (serve's
// flush job, and once at shutdown). The request log writes a line per
// request; written one by one, those writes were a tenth of an API
// request's cost under load (BENCHMARKS.md). Warnings, errors and
// lifecycle events do not go through it: they are written at once.
type batchWriter struct {
	w   io.Writer
	mu  sync.Mutex // Flush runs beside the handler's writes
	buf *bufio.Writer
}

func newBatchWriter(w io.Writer) *batchWriter {
	return &batchWriter{w: w, buf: bufio.NewWriterSize(w, 32<<10)}
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	b.dropOn(err)
	return n, err
}

func (b *batchWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.buf.Flush()
	b.dropOn(err)
	if err != nil {
		return fmt.Errorf("write the request log: %w", err)
	}
	return nil
}

// dropOn drops the batch a write failed on. A bufio.Writer keeps its first
// error and refuses everything after it; a log that failed once (a full
// disk, a restarted journal) should write again when it can.
func (b *batchWriter) dropOn(err error) {
	if err != nil {
		b.buf.Reset(b.w)
	}
}
