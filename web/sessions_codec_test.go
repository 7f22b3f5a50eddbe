package web

import (
	"bytes"
	"encoding/gob"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestJSONCodecRoundTrips holds jsonCodec to scs's GobCodec: every value
// portpanel keeps in a session comes back as the same type and value from
// both, with the same deadline.
func TestJSONCodecRoundTrips(t *testing.T) {
	deadline := time.Date(2026, 12, 7, 18, 30, 0, 123456789, time.UTC)
	cases := []struct {
		name   string
		values map[string]any
	}{
		{"empty", map[string]any{}},
		{"signed in", map[string]any{"user_id": int64(7), "epoch": int64(3), "seen": time.Now().UnixMilli(), "csrf": "q0Z-_x"}},
		{"int64 extremes", map[string]any{"max": int64(math.MaxInt64), "min": int64(math.MinInt64), "zero": int64(0)}},
		{"flash", map[string]any{"flash": "Change #12 applied: 1024 – 65000 «ok» <b>&", "flash_error": true, "no": false}},
		{"string that looks like a number", map[string]any{"csrf": "12345"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := jsonCodec{}.Encode(deadline, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			gotDeadline, got, err := jsonCodec{}.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			gb, err := scs.GobCodec{}.Encode(deadline, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			gobDeadline, want, err := scs.GobCodec{}.Decode(gb)
			if err != nil {
				t.Fatal(err)
			}
			if !gotDeadline.Equal(gobDeadline) {
				t.Errorf("deadline %v, gob gives %v", gotDeadline, gobDeadline)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("values %#v, gob gives %#v", got, want)
			}
		})
	}
}

// TestJSONCodecRefuses: a value type a session never holds is an error at
// encoding (not a float read back as something else), and bytes that are
// not a stored session are errUndecodable, which loadAndSave turns into
// no session.
func TestJSONCodecRefuses(t *testing.T) {
	if _, err := (jsonCodec{}).Encode(time.Now(), map[string]any{"x": 1.5}); err == nil {
		t.Error("a float64 value was encoded, want an error")
	}
	var gobbed bytes.Buffer
	if err := gob.NewEncoder(&gobbed).Encode(map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"empty": nil, "gob": gobbed.Bytes(), "truncated": []byte(`{"deadline":"2026-`), "fraction": []byte(`{"values":{"user_id":1.5}}`)} {
		if _, _, err := (jsonCodec{}).Decode(b); !errors.Is(err, errUndecodable) {
			t.Errorf("%s: Decode error %v, want errUndecodable", name, err)
		}
	}
}
