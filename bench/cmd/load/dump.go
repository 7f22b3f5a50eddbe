package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// dump makes req warm times and then once more, and writes the last
// response as it came (status line, headers, body still compressed if it
// was) to file, for bench/cmd/hello -replay: a floor that sends exactly
// what portpanel sent.
func dump(host string, req []byte, warm int, file string) error {
	w := newWorker(host, [][]byte{req}, 0)
	defer w.close()
	for range warm {
		if _, _, err := w.do(); err != nil {
			return fmt.Errorf("dump: warm-up: %w", err)
		}
	}
	resp, err := w.roundTrip(req)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("dump: read the body: %w", err)
	}
	html := len(body)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("dump: gunzip the body: %w", err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err != nil {
			return fmt.Errorf("dump: gunzip the body: %w", err)
		}
		html = int(n)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := resp.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("dump: write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("status=%d body_bytes=%d html_bytes=%d\n", resp.StatusCode, len(body), html)
	return nil
}
