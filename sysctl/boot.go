package sysctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// maxReadSize caps how much of one config file portpanel reads; both
// readers cope with bigger files, so a bigger one makes the boot value
// uncertain.
const maxReadSize = 16 << 20

// Boot replays what reader r does at boot: every write it makes for Key
// (explicitly or through a pattern) and for ip_unprivileged_port_start, in
// its order, on a model of the kernel that starts from a new namespace's
// defaults. Files that cannot be read are listed in Problems, or in
// Uncertain when the reader itself could read them; never returned as
// errors.
func (c Config) Boot(r Reader) (Boot, error) { return c.replay(r, "", nil) }

// BootAfterEdit is Boot as if managed (an absolute path, normally under
// Root) held after: what the host would boot with once a planned edit is
// written.
func (c Config) BootAfterEdit(r Reader, managed string, after []byte) (Boot, error) {
	return c.replay(r, c.realPath(managed), after)
}

// replay reads the files r reads, in r's order, and applies their writes.
// assume, if not "", is a real path whose content is taken to be assumed.
func (c Config) replay(r Reader, assume string, assumed []byte) (Boot, error) {
	if err := checkReader(r); err != nil {
		return Boot{}, err
	}
	files, problems := c.list(r, assume)
	b := Boot{Reader: r}
	for _, p := range problems {
		b.addProblem(p.sentence, p.uncertain)
	}
	if r == ReaderProcps {
		files = c.procpsExpand(files)
	}
	var lines []confLine
	type unread struct {
		file  int // index in b.Files order: files read after it may be overridden by it
		cause string
	}
	var unreadable []unread
	for _, f := range files {
		switch f.state {
		case fileMasked:
			b.Files = append(b.Files, f.listed) // reads as empty
			continue
		case fileOK:
		default:
			b.addProblem(c.problem(f, r), isPermission(f.err))
			continue
		}
		b.Files = append(b.Files, f.listed)
		content, why, uncertain := c.readConf(f, assume, assumed)
		if why != "" {
			if uncertain {
				unreadable = append(unreadable, unread{len(b.Files) - 1, why})
			} else {
				b.Problems = append(b.Problems, why)
			}
			continue
		}
		fileLines, tooLong := readerLines(content, r, f.listed)
		if tooLong {
			b.Problems = append(b.Problems, fmt.Sprintf("%s has a line longer than 1 MiB: systemd-sysctl stops reading the file there", c.display(f.listed)))
		}
		lines = append(lines, fileLines...)
	}

	var writes []sysctlWrite
	var globs, drops map[tracked][]Location
	if r == ReaderProcps {
		writes, globs = procpsWrites(lines)
	} else {
		writes, globs, drops = systemdWrites(lines)
	}
	b.Globs, b.Reserved.Globs = globs[targetRange], globs[targetReserved]
	k := newKernelModel(c.display)
	var winner, reservedWinner *sysctlWrite
	for i, w := range writes {
		switch w.tracked {
		case targetUnpriv:
			k.writeUnpriv(w.value, w.where)
		case targetRange:
			if reason := k.writeRange(w.value); reason != "" {
				b.Refused = append(b.Refused, RefusedWrite{Where: w.where, Value: w.value, Reason: reason})
				continue
			}
			winner, b.Refused = &writes[i], nil
		case targetReserved:
			if reason := k.writeReserved(w.value); reason != "" {
				b.Reserved.Refused = append(b.Reserved.Refused, RefusedWrite{Where: w.where, Value: w.value, Reason: reason})
				continue
			}
			reservedWinner, b.Reserved.Refused = &writes[i], nil
		}
	}
	b.UnprivilegedPortStart = k.unpriv
	if winner != nil {
		kr := k.r
		b.Set, b.Value, b.Range, b.Where = true, winner.value, &kr, winner.where
	} else if d := drops[targetRange]; len(d) > 0 {
		b.Dropped, b.Where = true, d[len(d)-1]
	}
	b.Reserved.Ports = k.reserved
	if w := reservedWinner; w != nil {
		b.Reserved.Set, b.Reserved.Value, b.Reserved.Where = true, w.value, w.where
	} else if d := drops[targetReserved]; len(d) > 0 {
		b.Reserved.Dropped, b.Reserved.Where = true, d[len(d)-1]
	}
	for _, u := range unreadable {
		msg := u.cause + ": the boot reader reads it at boot, so the boot value is uncertain"
		if winner != nil && u.file > b.fileIndex(winner.where.File) {
			msg += fmt.Sprintf(", and it is read after %s, so it may override it", c.loc(winner.where))
		}
		b.Uncertain = append(b.Uncertain, msg)
	}
	return b, nil
}

func (b *Boot) addProblem(p string, uncertain bool) {
	if uncertain {
		b.Uncertain = append(b.Uncertain, p+": the boot reader reads it at boot, so the boot value is uncertain")
		return
	}
	b.Problems = append(b.Problems, p)
}

// fileIndex is the last position of file in Files.
func (b *Boot) fileIndex(file string) int {
	for i := len(b.Files) - 1; i >= 0; i-- {
		if b.Files[i] == file {
			return i
		}
	}
	return -1
}

// isPermission reports an error portpanel gets only because it runs with
// fewer rights than the boot reader (root with every capability).
func isPermission(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// readConf returns f's content, or why it could not be read and whether
// the reader at boot could (so the boot value is uncertain).
func (c Config) readConf(f confFile, assume string, assumed []byte) ([]byte, string, bool) {
	if assume != "" && f.resolved == assume {
		return assumed, "", false
	}
	fh, err := os.Open(f.resolved)
	if err != nil {
		return nil, fmt.Sprintf("portpanel cannot read %s: %v", c.display(f.listed), bareErr(err)), isPermission(err)
	}
	defer fh.Close()
	content, err := io.ReadAll(io.LimitReader(fh, maxReadSize+1))
	if err != nil {
		return nil, fmt.Sprintf("portpanel cannot read %s: %v", c.display(f.listed), bareErr(err)), isPermission(err)
	}
	if len(content) > maxReadSize {
		return nil, fmt.Sprintf("%s is larger than %d MiB and portpanel did not read it", c.display(f.listed), maxReadSize>>20), true
	}
	return content, "", false
}

// readerLines splits content as r reads it, numbering lines as r does.
// procps reads with getline(): lines end at "\n", a NUL ends the C
// string, and a line shorter than 2 bytes (newline included) is skipped.
// systemd's read_line() also ends a line at a lone "\r" or a NUL.
func readerLines(content []byte, r Reader, file string) (lines []confLine, tooLong bool) {
	if r == ReaderSystemd {
		sl, tooLong := splitLines(content, ReaderSystemd)
		for _, l := range sl {
			lines = append(lines, confLine{text: l.text, where: Location{File: file, Line: l.n}})
		}
		return lines, tooLong
	}
	s := string(content)
	for n := 1; s != ""; n++ {
		i := strings.IndexByte(s, '\n')
		raw := s
		if i >= 0 {
			raw, s = s[:i+1], s[i+1:]
		} else {
			s = ""
		}
		if len(raw) < 2 {
			continue
		}
		text, _, _ := strings.Cut(raw, "\x00")
		lines = append(lines, confLine{text: text, where: Location{File: file, Line: n}})
	}
	return lines, false
}

// procpsExpand applies Preload()'s glob(3) to each config file path, as
// procps does (GLOB_NOCHECK|GLOB_BRACE): a file named "5?.conf" reads
// every file of its directory the pattern matches, in order, or itself
// when none does. A match that cannot be opened ends that file's list.
func (c Config) procpsExpand(files []confFile) []confFile {
	var out []confFile
	for _, f := range files {
		dir, name := filepath.Dir(f.listed), filepath.Base(f.listed)
		if !strings.ContainsAny(name, "*?[{\\") {
			out = append(out, f)
			continue
		}
		realDir, _, err := c.resolve(dir)
		if err != nil {
			out = append(out, f)
			continue
		}
		var entries []string
		if names, err := readDirNames(realDir); err == nil {
			entries = names
		}
		var matches []string
		for _, alt := range braceExpand(name) {
			if !globMagic(alt) {
				if _, err := os.Lstat(filepath.Join(realDir, unescape(alt))); err == nil {
					matches = append(matches, unescape(alt))
				}
				continue
			}
			var m []string
			for _, e := range entries {
				if fnmatch(alt, e) {
					m = append(m, e)
				}
			}
			sort.Strings(m)
			matches = append(matches, m...)
		}
		if len(matches) == 0 {
			matches = []string{name}
		}
		for _, m := range matches {
			g := c.stat(filepath.Join(dir, m), "")
			if g.state == fileDangling || g.state == fileBroken {
				out = append(out, g) // "cannot open": procps stops this list here
				break
			}
			out = append(out, g)
		}
	}
	return out
}
