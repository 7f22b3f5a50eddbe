package sysctl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// sysctlConf is read last by `sysctl --system` and never directly by
// systemd-sysctl (only through a link such as /etc/sysctl.d/99-sysctl.conf).
const sysctlConf = "/etc/sysctl.conf"

// maxLinkHops is the kernel's limit on symlinks followed in one lookup.
const maxLinkHops = 40

// Config reads the sysctl configuration files below Root ("/" in
// production; a temp dir in tests). Paths it returns include Root.
type Config struct{ Root string }

// readerDirs are the directories a reader scans, in precedence order: for
// the same file name the first directory wins. systemd reads /lib/sysctl.d
// only on split-usr systems; procps always does.
func readerDirs(rd Reader) []string {
	d := []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d"}
	if rd == ReaderProcps {
		d = append(d, "/lib/sysctl.d")
	}
	return d
}

// DetectReader returns the reader that applies the files at boot: systemd
// when it is running (the same test as sd_booted()), procps otherwise.
func (c Config) DetectReader() Reader {
	if fi, err := os.Stat(c.path("/run/systemd/system")); err == nil && fi.IsDir() {
		return ReaderSystemd
	}
	return ReaderProcps
}

// ParseReader parses "systemd" or "procps".
func ParseReader(s string) (Reader, error) {
	switch r := Reader(strings.TrimSpace(s)); r {
	case ReaderSystemd, ReaderProcps:
		return r, nil
	}
	return "", fmt.Errorf("unknown boot reader %q: use %q or %q", s, ReaderSystemd, ReaderProcps)
}

func checkReader(rd Reader) error {
	_, err := ParseReader(string(rd))
	return err
}

func otherReader(rd Reader) Reader {
	if rd == ReaderSystemd {
		return ReaderProcps
	}
	return ReaderSystemd
}

// readerName is how messages name a reader.
func readerName(rd Reader) string {
	if rd == ReaderSystemd {
		return "systemd-sysctl"
	}
	return "sysctl --system"
}

func (c Config) root() string {
	if c.Root == "" {
		return "/"
	}
	return filepath.Clean(c.Root)
}

// path puts an absolute system path under Root.
func (c Config) path(p string) string { return filepath.Join(c.root(), p) }

// display shows a path under Root as the system would see it.
func (c Config) display(p string) string {
	rel, err := filepath.Rel(c.root(), p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return p
	}
	return filepath.Join("/", rel)
}

// resolve follows the symlinks in p (a path under Root) the way a program
// chrooted at Root would: absolute targets are re-rooted, ".." stops at
// Root. A missing component ends the walk: the result is where the file
// would be. isNull is set for a link to /dev/null, which masks a file.
func (c Config) resolve(p string) (real string, isNull bool, err error) {
	root := c.root()
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return p, false, fmt.Errorf("resolve %s: outside %s", p, root)
	}
	todo := strings.Split(rel, "/")
	cur := root
	for hops := 0; len(todo) > 0; {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if cur != root {
				cur = filepath.Dir(cur)
			}
			continue
		}
		next := filepath.Join(cur, comp)
		fi, err := os.Lstat(next)
		if err != nil {
			return filepath.Join(append([]string{next}, todo...)...), false, nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return next, false, fmt.Errorf("resolve %s: %w", c.display(p), syscall.ELOOP)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return next, false, fmt.Errorf("resolve %s: %w", c.display(p), err)
		}
		if filepath.Clean(target) == "/dev/null" {
			return "/dev/null", true, nil
		}
		if filepath.IsAbs(target) {
			cur = root
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return cur, false, nil
}

type fileState int

const (
	fileOK         fileState = iota
	fileMasked               // link to /dev/null (or another character device): reads as empty
	fileDangling             // symlink to nothing
	fileNotRegular           // a directory, a FIFO...
	fileBroken               // symlink loop or another resolution error
)

// confFile is a file a reader considers.
type confFile struct {
	listed   string // as the reader names it (under Root)
	resolved string // after symlinks
	state    fileState
	err      error
}

// list returns the files rd considers, in the order it applies them,
// including masked and broken ones. assume, if not "", is a real path
// treated as an existing non-empty file: whether a file would be read once
// portpanel writes it.
func (c Config) list(rd Reader, assume string) (files []confFile, problems []listProblem) {
	seen := map[string]bool{} // names taken (or masked) by an earlier directory
	var named []confFile
	for _, dir := range readerDirs(rd) {
		names, err := c.readDir(dir, assume)
		if err != nil {
			problems = append(problems, listProblem{sentence: err.Error(), uncertain: isPermission(err)})
		}
		for _, name := range names {
			if !strings.HasSuffix(name, ".conf") || seen[name] {
				continue
			}
			if rd == ReaderSystemd && name[0] == '.' {
				continue // systemd skips hidden files; procps reads them
			}
			// Both tools take the name before looking at the file: a
			// dangling link or a directory called x.conf hides any later
			// x.conf and then fails to read (checked against
			// systemd-sysctl 252; newer systemd may skip such entries).
			seen[name] = true
			named = append(named, c.stat(filepath.Join(c.path(dir), name), assume))
		}
	}
	sort.SliceStable(named, func(i, j int) bool {
		return filepath.Base(named[i].listed) < filepath.Base(named[j].listed)
	})
	files = named
	if rd == ReaderProcps {
		// Read only if it is a regular file (stat follows links).
		if f := c.stat(c.path(sysctlConf), assume); f.state == fileOK {
			files = append(files, f)
		}
	}
	return files, problems
}

// listProblem is a reader directory that cannot be listed; uncertain when
// the reader, with more rights than portpanel, can list it.
type listProblem struct {
	sentence  string
	uncertain bool
}

// readDir lists the names in a reader directory (none if it is missing),
// plus the name of assume if it would be created there.
func (c Config) readDir(dir, assume string) ([]string, error) {
	real, _, err := c.resolve(c.path(dir))
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(real)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("cannot list %s: %w", dir, bareErr(err))
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if assume != "" && filepath.Dir(assume) == real && !slices.Contains(names, filepath.Base(assume)) {
		names = append(names, filepath.Base(assume))
		slices.Sort(names)
	}
	return names, nil
}

// stat resolves p and classifies what is there.
func (c Config) stat(p, assume string) confFile {
	f := confFile{listed: p}
	real, isNull, err := c.resolve(p)
	f.resolved = real
	switch {
	case err != nil:
		f.state, f.err = fileBroken, err
		return f
	case isNull:
		f.state = fileMasked
		return f
	case assume != "" && real == assume:
		return f
	}
	fi, err := os.Stat(real)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		f.state = fileDangling
	case err != nil:
		f.state, f.err = fileBroken, err
	case fi.Mode()&fs.ModeCharDevice != 0:
		f.state = fileMasked
	case !fi.Mode().IsRegular():
		f.state = fileNotRegular
	}
	return f
}

// problem explains a file that is considered but cannot be read.
func (c Config) problem(f confFile, rd Reader) string {
	p := c.display(f.listed)
	switch f.state {
	case fileDangling:
		return fmt.Sprintf("%s points to %s, which does not exist: %s cannot read it, and it hides any %s in later directories",
			p, c.display(f.resolved), readerName(rd), filepath.Base(p))
	case fileNotRegular:
		return fmt.Sprintf("%s is not a regular file: %s reads nothing from it, and it hides any %s in later directories",
			p, readerName(rd), filepath.Base(p))
	case fileBroken:
		return fmt.Sprintf("cannot read %s: %v", p, f.err)
	}
	return ""
}

// Files returns the files r applies at boot, in order, as the tools list
// them: a file may appear twice (procps reads /etc/sysctl.conf through
// 99-sysctl.conf and again at the end), and masks (links to /dev/null)
// are included. Files that cannot be read are left out (see Boot.Problems).
func (c Config) Files(r Reader) ([]string, error) {
	if err := checkReader(r); err != nil {
		return nil, err
	}
	files, _ := c.list(r, "")
	if r == ReaderProcps {
		files = c.procpsExpand(files)
	}
	var out []string
	for _, f := range files {
		if f.state == fileOK || f.state == fileMasked {
			out = append(out, f.listed)
		}
	}
	return out, nil
}
