package sysctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree builds a config tree under a temp root. Keys are system paths;
// a value "-> target" makes a symlink, "<dir>" a directory, anything else
// a file with that content.
func tree(t *testing.T, files map[string]string) Config {
	t.Helper()
	root := t.TempDir()
	for p, v := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(v, "-> "):
			err = os.Symlink(strings.TrimPrefix(v, "-> "), full)
		case v == "<dir>":
			err = os.Mkdir(full, 0o755)
		default:
			err = os.WriteFile(full, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return Config{Root: root}
}
