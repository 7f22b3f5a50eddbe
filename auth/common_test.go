package auth

import (
	"strings"
	"testing"
)

func TestCommonPasswordList(t *testing.T) {
	if n := len(common); n < 1000 {
		t.Errorf("%d common passwords loaded, want the top 1,000 and more", n)
	}
	for p := range common {
		if p != strings.ToLower(strings.TrimSpace(p)) || p == "" {
			t.Errorf("list entry %q is not trimmed lower case", p)
		}
	}
	for _, tt := range []struct {
		pw     string
		common bool
	}{
		{"password", true},
		{"PassWord", true},
		{"qwerty123456", true},
		{"QWERTY123456", true},
		{"1q2w3e4r5t6y7u8i9o0p", true},
		{"control", true}, // the 1,000th
		{"correct horse battery staple", false},
		{"qwerty1234567", false},
		{"", false},
	} {
		if got := IsCommonPassword(tt.pw); got != tt.common {
			t.Errorf("IsCommonPassword(%q) = %v, want %v", tt.pw, got, tt.common)
		}
	}
}

func TestCheckPasswordFor(t *testing.T) {
	for _, tt := range []struct {
		name, user, pw string
		want           string // part of the message, "" for accepted
	}{
		{"a long unusual passphrase", "alice", "cobalt kettle under rain", ""},
		{"too short", "alice", "short", "at least 12"},
		{"common, long enough", "alice", "qwerty123456", "most common passwords"},
		{"common in capitals", "alice", "Qwerty123456", "most common passwords"},
		{"the user name", "administrator", "administrator", "user name"},
		{"the user name in capitals", "administrator", "ADMINISTRATOR", "user name"},
		{"containing the name is allowed", "bob", "bob likes long passwords", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckPasswordFor(tt.user, tt.pw)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("CheckPasswordFor(%q, %q) = %q, want %q", tt.user, tt.pw, got, tt.want)
			}
		})
	}
}
