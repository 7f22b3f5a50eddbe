package auth

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTokenRole(t *testing.T) {
	tests := []struct {
		name, token, owner, want string
	}{
		{"a token from before roles acts as its owner", "", "operator", "operator"},
		{"a lower token keeps its role", "viewer", "admin", "viewer"},
		{"a demoted owner demotes the token", "operator", "viewer", "viewer"},
		{"an approver token of an operator acts as operator", "approver", "operator", "operator"},
		{"an unknown owner role allows nothing", "admin", "root", "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TokenRole(tt.token, tt.owner)
			if got != tt.want {
				t.Errorf("TokenRole(%q, %q) = %q, want %q", tt.token, tt.owner, got, tt.want)
			}
			if tt.owner == "root" && Allows(got, "viewer") {
				t.Errorf("%q allows viewer", got)
			}
		})
	}
}

func TestRolesUpTo(t *testing.T) {
	tests := map[string][]string{
		"viewer":   {"viewer"},
		"operator": {"viewer", "operator"},
		"admin":    {"viewer", "operator", "approver", "admin"},
		"":         nil,
	}
	for role, want := range tests {
		if got := RolesUpTo(role); !slices.Equal(got, want) {
			t.Errorf("RolesUpTo(%q) = %v, want %v", role, got, want)
		}
	}
}

func TestMayManageToken(t *testing.T) {
	tests := []struct {
		name  string
		actor int64
		role  string
		owner int64
		want  bool
	}{
		{name: "owner viewer", actor: 1, role: "viewer", owner: 1, want: true},
		{name: "someone else's, as operator", actor: 1, role: "operator", owner: 2},
		{name: "someone else's, as approver", actor: 1, role: "approver", owner: 2},
		{name: "someone else's, as admin", actor: 1, role: "admin", owner: 2, want: true},
	}
	for _, tt := range tests {
		if got := MayManageToken(tt.actor, tt.role, tt.owner); got != tt.want {
			t.Errorf("%s: MayManageToken = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckTokenName(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"plain", "deploy on build-01", true},
		{"markup is just text", `<script>alert(1)</script>`, true},
		{"100 characters", strings.Repeat("é", 100), true},
		{"101 characters", strings.Repeat("é", 101), false},
		{"empty", "", false},
		{"blank", "   ", false},
		{"line break", "a\nb", false},
		{"invalid UTF-8", "a\xffb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := CheckTokenName(tt.in); (msg == "") != tt.ok {
				t.Errorf("CheckTokenName(%q) = %q, want ok=%v", tt.in, msg, tt.ok)
			}
		})
	}
}

func TestCheckTokenRole(t *testing.T) {
	tests := []struct {
		name, role, owner string
		wantMsg           string // "" when allowed
	}{
		{"same as the owner", "operator", "operator", ""},
		{"lower than the owner", "viewer", "admin", ""},
		{"higher than the owner", "operator", "viewer", "at most viewer"},
		{"unknown role", "root", "admin", "from the list"},
		{"empty role", "", "admin", "from the list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := CheckTokenRole(tt.role, tt.owner)
			if (tt.wantMsg == "") != (msg == "") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("CheckTokenRole(%q, %q) = %q, want %q", tt.role, tt.owner, msg, tt.wantMsg)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2030, 6, 15, 10, 30, 0, 0, time.UTC)
	at := func(s string) *time.Time {
		v, _ := time.Parse(time.DateTime, s)
		return &v
	}
	tests := []struct {
		name, in string
		want     *time.Time
		wantMsg  string
	}{
		{name: "empty is never", in: ""},
		{name: "never", in: "never"},
		{name: "days", in: "90d", want: at("2030-09-13 10:30:00")},
		{name: "one day", in: "1d", want: at("2030-06-16 10:30:00")},
		{name: "a date means its start, UTC", in: "2030-06-16", want: at("2030-06-16 00:00:00")},
		{name: "zero days", in: "0d", wantMsg: "1d to 3650d"},
		{name: "too many days", in: "3651d", wantMsg: "1d to 3650d"},
		{name: "today has begun", in: "2030-06-15", wantMsg: "has passed"},
		{name: "a past date", in: "2020-01-01", wantMsg: "has passed"},
		{name: "no unit", in: "90", wantMsg: "a number of days (90d)"},
		{name: "not a date", in: "2030-02-30", wantMsg: "a number of days (90d)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := ParseExpiry(tt.in, now)
			if !strings.Contains(msg, tt.wantMsg) || (tt.wantMsg == "") != (msg == "") {
				t.Fatalf("ParseExpiry(%q) message %q, want %q", tt.in, msg, tt.wantMsg)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && !got.Equal(*tt.want)) {
				t.Errorf("ParseExpiry(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
