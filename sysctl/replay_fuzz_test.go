package sysctl

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// fuzzFragments turn fuzz bytes into config text that names the keys
// often enough to matter: one byte, one fragment.
var fuzzFragments = []string{
	"net", ".", "ipv4", "ip_local_port_range", "ip_unprivileged_port_start", "/", "=", " = ", "-", "*", "?",
	"[", "]", "a-z", "0", "1", "7", "20000", "30001", "1000", " ", "\t", "\r", "\n", "\x00", "#", ";",
	"0x", "\"", "..", "rang", "\n" + Key + " = ",
}

// fuzzDirs and fuzzNames place a fuzzed file: a reader directory or
// /etc/sysctl.conf, and names that glob, sort oddly or collide.
var (
	fuzzDirs  = []string{etcD, runD, localD, usrLibD}
	fuzzNames = []string{"10-a.conf", "50-x.conf", "5?.conf", "a*.conf", "[5]0-x.conf", "99-zz.conf", "50-x.conf", "{1,5}0-x.conf"}
)

// fuzzContent is raw when raw is set, else the bytes mapped to fragments.
func fuzzContent(b []byte, raw bool) string {
	if raw {
		return string(b)
	}
	var s strings.Builder
	for _, c := range b {
		s.WriteString(fuzzFragments[int(c)%len(fuzzFragments)])
	}
	return s.String()
}

// FuzzBootReplay: whatever two or three files say, Boot must not panic,
// and every line it names (the winning write, the refused ones) must be a
// line of a file it lists, numbered as the reader numbers lines.
func FuzzBootReplay(f *testing.F) {
	K := []byte(Key)
	f.Add(append(K, " = 20000 30001\n"...), append(K, " = 20002 70000\n"...), []byte{}, uint8(0x80))
	f.Add([]byte("# a\n\r"+Key+" = 20000 30001\n"), []byte("# b\n\x00"+Key+" = 1000 30001\r\n"), []byte("net.ipv4.ip_unprivileged_port_start = 1000\n"), uint8(0x81))
	f.Add([]byte("net.ipv4.ip_local_port_rang? = 20000 30001\n-"+Key+"\n"), []byte("net.ipv4.ip_[lu]* = 1000 30001\r\r"), []byte(Key+" = 20010"), uint8(0xa7))
	f.Add([]byte{31, 17, 18, 23, 31, 19, 22, 31, 14, 24, 31, 20}, []byte{0, 1, 2, 1, 3, 6, 17}, []byte{8, 0, 1, 2, 1, 30, 10, 6, 18}, uint8(0x1b))
	f.Add([]byte{31, 29, 31, 8, 8, 3, 31, 27, 17, 22, 23, 22, 31}, []byte{}, []byte{25, 24, 31, 17}, uint8(0x4e))
	f.Add([]byte(" = 20000 30001\n"), []byte("=\n-\n"), []byte{}, uint8(0x80)) // empty keys
	f.Fuzz(func(t *testing.T, a, b, c []byte, layout uint8) {
		raw := layout&0x80 != 0
		files := map[string]string{"/lib": libLink}
		if layout&0x40 != 0 {
			files[etcD+"99-sysctl.conf"] = debLink
		}
		for i, content := range [][]byte{a, b, c} {
			if i == 2 && len(c) == 0 {
				break // two files
			}
			p := conf
			if sel := int(layout>>(2*i)) % 5; sel < 4 || i == 0 {
				p = fuzzDirs[sel%4] + fuzzNames[(int(layout)+3*i)%len(fuzzNames)]
			}
			if _, taken := files[p]; taken {
				p = etcD + fuzzNames[i] // keep every file
				if _, taken := files[p]; taken {
					p = usrLibD + "9" + fuzzNames[i]
				}
			}
			files[p] = fuzzContent(content, raw)
		}
		cfg := tree(t, files)
		for _, rd := range []Reader{ReaderSystemd, ReaderProcps} {
			bt, err := cfg.Boot(rd)
			if err != nil {
				t.Fatalf("Boot(%s): %v", rd, err)
			}
			if bt.Set {
				checkFuzzWhere(t, bt, "winning write", bt.Where)
			}
			for _, r := range bt.Refused {
				checkFuzzWhere(t, bt, "refused write", r.Where)
			}
		}
	})
}

// checkFuzzWhere fails unless w is a line of one of b.Files as b.Reader
// numbers lines.
func checkFuzzWhere(t *testing.T, b Boot, what string, w Location) {
	t.Helper()
	if !slices.Contains(b.Files, w.File) {
		t.Fatalf("%s: %s names %s:%d, which is not one of the files it reads %q", b.Reader, what, w.File, w.Line, b.Files)
	}
	content, err := os.ReadFile(w.File)
	if err != nil {
		t.Fatalf("%s: %s names %s:%d: %v", b.Reader, what, w.File, w.Line, err)
	}
	lines := toolLines(string(content), b.Reader)
	if w.Line < 1 || w.Line > len(lines) {
		t.Fatalf("%s: %s names %s:%d, but %s reads %d lines in %q", b.Reader, what, w.File, w.Line, b.Reader, len(lines), content)
	}
	if l := lines[w.Line-1]; !strings.Contains(l, "=") {
		t.Fatalf("%s: %s names %s:%d, which %s reads as %q, not a write, in %q", b.Reader, what, w.File, w.Line, b.Reader, l, content)
	}
}
