package agent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"portpanel/agentapi"
)

// State is the agent's state directory: its key, its enrollment, its
// journal database and the last generation it acted on. Nothing in it is
// ever deleted by the agent, whatever the control plane answers: a host
// whose credential was revoked comes back with a new token and the same
// key.
type State struct{ Dir string }

// File names in the state directory.
const (
	keyFile        = "host.key"        // PKCS #8 PEM, 0600: never leaves the host
	nextKeyFile    = "host.key.next"   // the key a rotation in progress installs
	enrollmentFile = "enrollment.json" // who the control plane says this host is
	generationFile = "generation.json" // the last generation acted on
	journalFile    = "journal.db"      // the local change.Service database
)

// OpenState makes dir (0700) if it is missing and takes its permissions
// away from group and others if it has any: the key and the journal are
// the host's alone.
func OpenState(dir string) (*State, error) {
	if dir == "" {
		return nil, errors.New("no state directory: give --state-dir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make state directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("state directory %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("make state directory %s private: %w", dir, err)
		}
	}
	return &State{Dir: dir}, nil
}

// JournalPath is the local change.Service database.
func (s *State) JournalPath() string { return filepath.Join(s.Dir, journalFile) }

// Key returns the host's Ed25519 key, making it on first use. The private
// half is written once, 0600, and read back from then on.
func (s *State) Key() (ed25519.PrivateKey, error) { return s.readOrMakeKey(keyFile) }

// NextKey returns the key a rotation installs, making it if no rotation
// is in progress. It is kept until the control plane has it
// (PromoteNextKey), so a crash mid-rotation cannot lose the key the
// control plane may already hold.
func (s *State) NextKey() (ed25519.PrivateKey, error) { return s.readOrMakeKey(nextKeyFile) }

// HasNextKey reports whether a rotation is in progress.
func (s *State) HasNextKey() bool {
	_, err := os.Stat(filepath.Join(s.Dir, nextKeyFile))
	return err == nil
}

// PromoteNextKey makes the next key the host's key.
func (s *State) PromoteNextKey() error {
	if err := os.Rename(filepath.Join(s.Dir, nextKeyFile), filepath.Join(s.Dir, keyFile)); err != nil {
		return fmt.Errorf("install the new host key: %w", err)
	}
	return syncDir(s.Dir)
}

// KeySince is when the host's key was made or installed.
func (s *State) KeySince() (time.Time, error) {
	fi, err := os.Stat(filepath.Join(s.Dir, keyFile))
	if err != nil {
		return time.Time{}, fmt.Errorf("host key: %w", err)
	}
	return fi.ModTime(), nil
}

func (s *State) readOrMakeKey(name string) (ed25519.PrivateKey, error) {
	path := filepath.Join(s.Dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, key, gerr := agentapi.GenerateKey()
		if gerr != nil {
			return nil, gerr
		}
		pemKey, merr := agentapi.MarshalPrivateKey(key)
		if merr != nil {
			return nil, merr
		}
		if err := writeAtomic(path, pemKey); err != nil {
			return nil, fmt.Errorf("store host key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read host key: %w", err)
	}
	key, err := agentapi.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// Enrollment is what the control plane answered when the host enrolled.
type Enrollment struct {
	Name        string    `json:"name"`
	Group       string    `json:"group"`
	PollSeconds int       `json:"poll_seconds"`
	Servers     []string  `json:"servers"`
	At          time.Time `json:"at"`
	// TokenHash is the SHA-256 of the token used, so a restart that still
	// passes the same (spent) token does not try to enroll with it again.
	TokenHash string `json:"token_hash"`
}

// Enrollment returns the stored enrollment; ok is false before the first.
func (s *State) Enrollment() (e Enrollment, ok bool, err error) {
	ok, err = s.readJSON(enrollmentFile, &e)
	return e, ok, err
}

// SaveEnrollment stores e.
func (s *State) SaveEnrollment(e Enrollment) error { return s.writeJSON(enrollmentFile, e) }

// Acted is the last generation the agent acted on and what it made of it.
// It is written after the local journal has recorded the outcome, so a
// crash between the two acts on the generation again, and the journal
// (whose local change carries the generation, see journal.go) answers
// without applying twice.
type Acted struct {
	Generation int64 `json:"generation"`
	// ChangeID is the local change made for it (0: refused before one was
	// recorded, or nothing to do); State and Error are the outcome of a
	// refusal, which has no local change to read it from.
	ChangeID int64  `json:"change_id,omitempty"`
	State    string `json:"state,omitempty"`
	Error    string `json:"error,omitempty"`
	// Reported is the result state the control plane last accepted for
	// Generation ("" before any), so a report repeats only what changed.
	Reported string    `json:"reported,omitempty"`
	At       time.Time `json:"at"`
}

// Acted returns the last generation acted on (zero before the first).
func (s *State) Acted() (Acted, error) {
	var a Acted
	_, err := s.readJSON(generationFile, &a)
	return a, err
}

// SaveActed stores a.
func (s *State) SaveActed(a Acted) error { return s.writeJSON(generationFile, a) }

func (s *State) readJSON(name string, v any) (bool, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return false, fmt.Errorf("parse %s: %w", filepath.Join(s.Dir, name), err)
	}
	return true, nil
}

func (s *State) writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	if err := writeAtomic(filepath.Join(s.Dir, name), append(b, '\n')); err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	return nil
}

// writeAtomic replaces path with content, 0600, so a crash leaves the old
// file or the new one, never a torn one: temp file, fsync, rename, fsync
// of the directory.
func writeAtomic(path string, content []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err == nil {
		if _, err = f.Write(content); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
