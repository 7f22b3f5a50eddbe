package sysctl

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pmezard/go-difflib/difflib"
)

// ReadConfigFile reads a config file for editing. A missing file is not an
// error (existed is false); a file over MaxConfigSize or with NUL bytes is.
func ReadConfigFile(path string) (content []byte, existed bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, bareErr(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, true, fmt.Errorf("read %s: %w", path, &UneditableError{Reason: "it is not a regular file"})
	}
	content, err = io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, true, fmt.Errorf("read %s: %w", path, bareErr(err))
	}
	if err := checkEditable(content); err != nil {
		return nil, true, fmt.Errorf("read %s: %w", path, err)
	}
	return content, true, nil
}

// PlanFile works out the edit that sets t in the file at path, without
// writing anything.
func PlanFile(path string, t Target) (FileEdit, error) {
	before, existed, err := ReadConfigFile(path)
	if err != nil {
		return FileEdit{}, err
	}
	after, notes, err := EditTarget(before, t)
	if err != nil {
		return FileEdit{}, fmt.Errorf("edit %s: %w", path, err)
	}
	return FileEdit{
		Path:    path,
		Existed: existed,
		Before:  before,
		After:   after,
		Diff:    UnifiedDiff(path, before, after),
		Notes:   notes,
	}, nil
}

// UnifiedDiff is a unified diff of before → after with 3 lines of context
// ("" when equal). A last line without newline is marked as diff(1) does.
func UnifiedDiff(path string, before, after []byte) string {
	if string(before) == string(after) {
		return ""
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: diffLines(before), B: diffLines(after),
		FromFile: path, ToFile: path, Context: 3,
	})
	if err != nil { // only a failing writer; ours is a buffer
		return ""
	}
	return s
}

func diffLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	if last := lines[len(lines)-1]; last == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] = last + "\n\\ No newline at end of file\n"
	}
	return lines
}

// FileHash is the hex SHA-256 of content.
func FileHash(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// target follows path's symlinks to the file they name, which need not
// exist yet (Debian's 99-sysctl.conf may point to a missing sysctl.conf).
// Writing there keeps the links, where a rename over path would replace
// the link with a file.
func target(path string) (string, error) {
	p := path
	for hops := 0; ; hops++ {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.Mode().IsRegular() {
				return "", &UneditableError{Reason: p + " is not a regular file"}
			}
			return p, nil
		}
		if hops >= maxLinkHops {
			return "", syscall.ELOOP
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		p = link
	}
}

// WriteFileAtomic replaces the file at path (through any symlinks) with
// content: a temp file in the same directory, fsync, the old mode and
// owner (0644 root for a new file), rename, fsync of the directory. A
// reader sees the old or the new file, never a mix. The temp name starts
// with "." and does not end in ".conf", so neither tool reads it. Errors
// say what failed and keep the errno (errors.Is(err, syscall.EROFS)).
func WriteFileAtomic(path string, content []byte) error {
	return WriteFileAtomicHooked(path, content, nil)
}

// WriteFileAtomicHooked is WriteFileAtomic calling beforeRename, if not
// nil, once the temp file is complete and synced and before it replaces
// the file: the crash tests stop the process there.
func WriteFileAtomicHooked(path string, content []byte, beforeRename func()) error {
	if err := writeFileAtomic(path, content, beforeRename); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tempPrefix names WriteFileAtomic's temp files beside path's target.
func tempPrefix(dst string) string { return "." + filepath.Base(dst) + ".portpanel-tmp-" }

// RemoveTempFiles deletes temp files a crashed WriteFileAtomic left beside
// path's target, and returns their names. They are inert (neither tool
// reads them) but would accumulate.
func RemoveTempFiles(path string) ([]string, error) {
	dst, err := target(path)
	if err != nil {
		return nil, fmt.Errorf("clean temp files of %s: resolve symlinks: %w", path, bareErr(err))
	}
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(dst), globEscape(tempPrefix(dst))+"*"))
	if err != nil {
		return nil, fmt.Errorf("clean temp files of %s: %w", path, err)
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("clean temp files of %s: %w", path, bareErr(err))
		}
	}
	return matches, nil
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

func writeFileAtomic(path string, content []byte, beforeRename func()) (err error) {
	dst, err := target(path)
	if err != nil {
		return fmt.Errorf("resolve symlinks: %w", bareErr(err))
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, bareErr(err))
	}
	mode, uid, gid := fs.FileMode(0o644), -1, -1
	if fi, err := os.Stat(dst); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(dst))
	if err != nil {
		return fmt.Errorf("create temporary file: %w", bareErr(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	steps := []struct {
		what string
		do   func() error
	}{
		{"write temporary file", func() error { _, err := tmp.Write(content); return err }},
		{"sync temporary file", tmp.Sync},
		{"set mode", func() error { return tmp.Chmod(mode) }},
		{"set owner", func() error {
			if uid < 0 {
				return nil
			}
			return tmp.Chown(uid, gid)
		}},
		{"close temporary file", tmp.Close},
		{"prepare rename", func() error {
			if beforeRename != nil {
				beforeRename()
			}
			return nil
		}},
		{"rename temporary file", func() error { return os.Rename(tmp.Name(), dst) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, bareErr(err))
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, bareErr(err))
	}
	return nil
}

// RemoveFile undoes the creation of a config file. Through a symlink it
// removes the file the link points to and keeps the link, mirroring
// WriteFileAtomic, which created that file. A missing file is not an error.
func RemoveFile(path string) error {
	dst, err := target(path)
	if err != nil {
		return fmt.Errorf("remove %s: resolve symlinks: %w", path, bareErr(err))
	}
	if err := os.Remove(dst); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("remove %s: %w", path, bareErr(err))
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("remove %s: sync directory: %w", path, bareErr(err))
	}
	return nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
