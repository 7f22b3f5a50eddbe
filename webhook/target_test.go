package webhook

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		refused bool
	}{
		{"93.184.215.14", false},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", false},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped loopback
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"192.168.1.1", true},
		{"fd00::1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"100.64.0.1", true},
		{"224.0.0.1", true},
		{"255.255.255.255", true},
		{"64:ff9b::7f00:1", true},     // NAT64 of 127.0.0.1
		{"64:ff9b::5db8:d70e", false}, // NAT64 of a public address
	} {
		t.Run(tc.addr, func(t *testing.T) {
			if got := Refused(netip.MustParseAddr(tc.addr)) != ""; got != tc.refused {
				t.Errorf("Refused(%s) = %v, want %v", tc.addr, got, tc.refused)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, url    string
		allowPrivate bool
		want         string // stored URL, or a part of the refusal
		ok           bool
	}{
		{"a public address", "https://93.184.215.14/hook", false, "https://93.184.215.14/hook", true},
		{"loopback refused", "http://127.0.0.1:9000/hook", false, "loopback", false},
		{"loopback by name refused", "http://localhost:9000/hook", false, "loopback", false},
		{"IPv6 loopback refused", "http://[::1]:9000/hook", false, "loopback", false},
		{"private refused", "https://10.0.0.5/hook", false, "private", false},
		{"metadata refused", "http://169.254.169.254/latest", false, "link-local", false},
		{"loopback with the flag", "http://127.0.0.1:9000/hook", true, "http://127.0.0.1:9000/hook", true},
		{"another scheme", "ftp://93.184.215.14/x", true, "http:// or https://", false},
		{"no scheme", "hooks.example.com/x", true, "http:// or https://", false},
		{"no host", "https:///x", true, "no host", false},
		{"credentials", "https://user:pw@93.184.215.14/x", true, "user name", false},
		{"fragment", "https://93.184.215.14/x#y", true, "fragment", false},
		{"empty", "", true, "Give the endpoint", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Policy{AllowPrivate: tc.allowPrivate}.CheckURL(ctx, tc.url)
			if tc.ok {
				if err != nil || got != tc.want {
					t.Errorf("CheckURL(%q) = %q, %v; want %q", tc.url, got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckURL(%q) = %q, %v; want a refusal saying %q", tc.url, got, err, tc.want)
			}
		})
	}
}

func TestControlRefusesAtDialTime(t *testing.T) {
	strict, open := Policy{}, Policy{AllowPrivate: true}
	if err := strict.Control("tcp4", "127.0.0.1:80", nil); err == nil {
		t.Error("Control let a connection to 127.0.0.1 through")
	}
	if err := strict.Control("tcp6", "[::ffff:10.0.0.1]:443", nil); err == nil {
		t.Error("Control let a connection to a mapped private address through")
	}
	if err := strict.Control("tcp4", "93.184.215.14:443", nil); err != nil {
		t.Errorf("Control refused a public address: %v", err)
	}
	if err := open.Control("tcp4", "127.0.0.1:80", nil); err != nil {
		t.Errorf("Control with AllowPrivate refused loopback: %v", err)
	}
}

func TestCheckEndpoint(t *testing.T) {
	ctx := context.Background()
	p := Policy{AllowPrivate: true}
	ep, errs := p.Check(ctx, Input{URL: "http://127.0.0.1:1/x", Events: []string{RiskWarning, ChangeApplied, ChangeApplied}, Enabled: true})
	if errs != nil || ep.Format != "standard" || strings.Join(ep.Events, " ") != "change.applied risk.warning" || ep.Secret != "" {
		t.Errorf("Check = %+v, %v; want the events once in catalog order, format standard, no secret yet", ep, errs)
	}
	_, errs = p.Check(ctx, Input{URL: "gopher://x", Events: []string{"change.exploded"}, Format: "xml", Secret: "nope"})
	for _, f := range []string{"url", "events", "format", "secret"} {
		if errs[f] == "" {
			t.Errorf("Check of a bad input has no %s error: %v", f, errs)
		}
	}
	if got := Redact("https://hooks.slack.com/services/T000/B000/XXXX"); got != "https://hooks.slack.com/…" {
		t.Errorf("Redact = %q, want the path hidden", got)
	}
}
