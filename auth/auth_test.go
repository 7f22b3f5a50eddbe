package auth

import (
	"strings"
	"testing"
)

func TestPasswordHashIsArgon2idWithOWASPParams(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not use argon2id m=19456,t=2,p=1", h)
	}
	if !CheckPassword("correct horse battery", h) {
		t.Error("the right password was refused")
	}
	if CheckPassword("correct horse batterx", h) {
		t.Error("a wrong password was accepted")
	}
}

func TestAllows(t *testing.T) {
	for _, tt := range []struct {
		role, need string
		want       bool
	}{
		{"viewer", "viewer", true},
		{"viewer", "operator", false},
		{"operator", "operator", true},
		{"operator", "admin", false},
		{"admin", "operator", true},
		{"", "viewer", false},
		{"root", "viewer", false},
	} {
		if got := Allows(tt.role, tt.need); got != tt.want {
			t.Errorf("Allows(%q, %q) = %v, want %v", tt.role, tt.need, got, tt.want)
		}
	}
}

func TestCheckNewPassword(t *testing.T) {
	for _, tt := range []struct {
		name, pw string
		ok       bool
	}{
		{"too short", "short", false},
		{"eleven", "12345678901", false},
		{"twelve", "123456789012", true},
		{"twelve runes multi-byte", "ééééééééééé€", true},
		{"too long", strings.Repeat("a", MaxPasswordLen+1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckNewPassword(tt.pw) == ""; got != tt.ok {
				t.Errorf("CheckNewPassword ok = %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestCheckUserName(t *testing.T) {
	for name, ok := range map[string]bool{"alice": true, "a.b-c_d9": true, "": false, "Alice": false, "9lives": false, "a b": false, "<script>": false} {
		if got := CheckUserName(name) == ""; got != ok {
			t.Errorf("CheckUserName(%q) ok = %v, want %v", name, got, ok)
		}
	}
}

func TestSecretsAreUniqueAndHashed(t *testing.T) {
	a, _ := NewSecret()
	b, _ := NewSecret()
	if a == b || len(a) < 40 {
		t.Fatalf("secrets %q and %q", a, b)
	}
	if string(HashToken(a)) == string(HashToken(b)) || len(HashToken(a)) != 32 {
		t.Fatal("token hashes collide or are not SHA-256")
	}
}
