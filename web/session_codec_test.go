package web

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

func TestSessionCodec(t *testing.T) {
	deadline := time.Unix(1_790_000_000, 123456789)
	tests := []struct {
		name   string
		values map[string]any
	}{
		{name: "empty", values: map[string]any{}},
		{name: "signed in", values: map[string]any{"user_id": int64(42), "user_epoch": int64(-3), "seen": int64(1_790_000_000_123),
			"csrf": "tok", "flash": "Saved — ünïcode", "flash_error": true, "other": false, "blank": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := sessionCodec{}.Encode(deadline, tt.values)
			if err != nil {
				t.Fatal(err)
			}
			gotDeadline, got, err := sessionCodec{}.Decode(b)
			if err != nil || !gotDeadline.Equal(deadline) || !maps.Equal(got, tt.values) {
				t.Errorf("round trip = %v, %v, %v; want %v, %v", gotDeadline, got, err, deadline, tt.values)
			}
			// Every truncation is refused, never misread.
			for i := 1; i < len(b); i++ {
				if _, _, err := (sessionCodec{}).Decode(b[:i]); err == nil {
					t.Errorf("decoding the first %d of %d bytes: no error", i, len(b))
				}
			}
		})
	}
}

func TestSessionCodecRefusesOtherTypes(t *testing.T) {
	_, err := sessionCodec{}.Encode(time.Now(), map[string]any{"n": 3})
	if err == nil || !strings.Contains(err.Error(), "only int64, string and bool") {
		t.Errorf("Encode(int) = %v, want a clear error", err)
	}
}

// Sessions saved by scs's gob codec before this one are still read.
func TestSessionCodecReadsGobSessions(t *testing.T) {
	deadline := time.Now().Add(time.Hour).Round(0)
	values := map[string]any{"user_id": int64(7), "csrf": "x", "flash_error": false}
	b, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	gotDeadline, got, err := sessionCodec{}.Decode(b)
	if err != nil || !gotDeadline.Equal(deadline) || !maps.Equal(got, values) {
		t.Errorf("gob session = %v, %v, %v; want %v, %v", gotDeadline, got, err, deadline, values)
	}
}
