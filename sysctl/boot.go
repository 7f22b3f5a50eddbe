package sysctl

import (
	"fmt"
	"io"
	"os"
)

// maxReadSize caps how much of one config file is read to find the boot
// value; both tools cope with bigger files, but no sane one is.
const maxReadSize = 16 << 20

// Boot returns the value r would apply for Key at boot: the last
// assignment wins; for systemd a later bare "-key" line drops the key.
// Files that cannot be read are listed in Problems, not returned as errors.
func (c Config) Boot(r Reader) (Boot, error) {
	if err := checkReader(r); err != nil {
		return Boot{}, err
	}
	files, problems := c.list(r, "")
	b := Boot{Reader: r, Problems: problems}
	for _, f := range files {
		if f.state == fileMasked {
			b.Files = append(b.Files, f.listed) // reads as empty
			continue
		}
		if f.state != fileOK {
			b.Problems = append(b.Problems, c.problem(f, r))
			continue
		}
		b.Files = append(b.Files, f.listed)
		lines, err := c.scanFile(f, r)
		if err != "" {
			b.Problems = append(b.Problems, err)
		}
		for _, l := range lines {
			loc := Location{File: f.listed, Line: l.line}
			switch {
			case l.kind == lineGlob:
				b.Globs = append(b.Globs, loc)
			case l.kind == lineAssign:
				b.Set, b.Dropped, b.Value, b.Where = true, false, l.value, loc
			case l.kind == lineDrop && r == ReaderSystemd:
				b.Set, b.Dropped, b.Value, b.Where = false, true, "", loc
			}
		}
	}
	if b.Set {
		b.Range = kernelRange(b.Value)
	}
	return b, nil
}

// scanFile reads one config file and returns its lines about Key, with a
// problem sentence if the file could not be read completely.
func (c Config) scanFile(f confFile, r Reader) ([]found, string) {
	fh, err := os.Open(f.resolved)
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s: %v", c.display(f.listed), bareErr(err))
	}
	defer fh.Close()
	content, err := io.ReadAll(io.LimitReader(fh, maxReadSize+1))
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s: %v", c.display(f.listed), bareErr(err))
	}
	if len(content) > maxReadSize {
		return nil, fmt.Sprintf("%s is larger than %d MiB: portpanel did not look for %s in it", c.display(f.listed), maxReadSize>>20, Key)
	}
	lines, tooLong := scanKey(content, r)
	if tooLong {
		return lines, fmt.Sprintf("%s has a line longer than 1 MiB: systemd-sysctl stops reading the file there", c.display(f.listed))
	}
	return lines, ""
}
