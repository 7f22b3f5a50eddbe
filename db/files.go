package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The database holds password hashes, session data and the audit trail:
// only portpanel's own user may read it. Modes are set with chmod after
// creating, because the umask only ever removes bits and a umask of 0 (or
// an odd one) must not decide who reads the file.
const (
	fileMode fs.FileMode = 0o600
	dirMode  fs.FileMode = 0o700
)

// Tightened is a database file whose mode Open narrowed to owner-only.
type Tightened struct {
	Path     string
	From, To fs.FileMode
}

// dbFiles are the main file and the two SQLite keeps beside it in WAL
// mode. SQLite creates the -wal and -shm with the main file's mode, so
// once that is 0600 new ones are too; older ones, left by a crash or made
// by an older portpanel, are tightened here.
func dbFiles(path string) []string { return []string{path, path + "-wal", path + "-shm"} }

// prepareFiles creates the missing directories above path (0700) and the
// database file itself (0600), then tightens any of the database's files
// that group or others may use, and says which it tightened.
func prepareFiles(path string) ([]Tightened, error) {
	if err := mkdirPrivate(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	var changed []Tightened
	for _, p := range dbFiles(path) {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return changed, fmt.Errorf("check the mode of %s: %w", p, err)
		}
		from := fi.Mode().Perm()
		if from&0o077 == 0 {
			continue
		}
		to := from &^ 0o077
		if err := os.Chmod(p, to); err != nil {
			return changed, fmt.Errorf("make %s private (mode %04o, readable by others): %w", p, from, err)
		}
		changed = append(changed, Tightened{Path: p, From: from, To: to})
	}
	return changed, nil
}

// mkdirPrivate creates dir and its missing parents with mode 0700. It
// leaves directories that exist alone: they are the administrator's
// (a home directory, /var/lib), not portpanel's to change.
func mkdirPrivate(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("create database directory %s: a file is in the way", dir)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check database directory %s: %w", dir, err)
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirPrivate(parent); err != nil {
			return err
		}
	}
	err := os.Mkdir(dir, dirMode)
	if errors.Is(err, fs.ErrExist) {
		return nil // made meanwhile by someone else: theirs
	} else if err != nil {
		return fmt.Errorf("create database directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return fmt.Errorf("set the mode of database directory %s: %w", dir, err)
	}
	return nil
}

// createPrivate creates an empty database file with mode 0600 unless one
// exists; SQLite takes an empty file for an empty database.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("create database file %s: %w", path, err)
	}
	err = f.Chmod(fileMode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("set the mode of database file %s: %w", path, err)
	}
	return nil
}
