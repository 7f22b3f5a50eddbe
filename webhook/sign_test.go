package webhook

import (
	"strings"
	"testing"
)

// The reference vector published with the Standard Webhooks spec: any
// receiver's library verifies what Sign produces.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestSecrets(t *testing.T) {
	s := NewSecret()
	if !strings.HasPrefix(s, SecretPrefix) || CheckSecret(s) != "" || NewSecret() == s {
		t.Errorf("NewSecret = %q: want a fresh whsec_ secret that CheckSecret accepts", s)
	}
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{
		{"24 bytes", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true},
		{"no prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false},
		{"not base64", "whsec_not base64 at all!!", false},
		{"too short", "whsec_c2hvcnQ=", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckSecret(tc.secret) == ""; got != tc.ok {
				t.Errorf("CheckSecret(%q) accepts: %v, want %v", tc.secret, got, tc.ok)
			}
			if _, err := Sign(tc.secret, "msg_1", 1, nil); (err == nil) != tc.ok {
				t.Errorf("Sign with %q: %v, want an error: %v", tc.secret, err, !tc.ok)
			}
		})
	}
}
