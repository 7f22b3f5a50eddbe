package web

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// A session decoded again from the same bytes is what jsonCodec decodes
// from them, however the caller changed its copy of the values; other
// bytes decode afresh, and bytes that do not decode stay an error.
func TestReusingCodecDecodesWhatJSONCodecDoes(t *testing.T) {
	var c reusingCodec
	deadline := time.Date(2026, 12, 7, 18, 30, 0, 0, time.UTC)
	alice, err := jsonCodec{}.Encode(deadline, map[string]any{"user_id": int64(7), "csrf": "a", "flash_error": true})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := jsonCodec{}.Encode(deadline.Add(time.Hour), map[string]any{"user_id": int64(8), "csrf": "b"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for _, b := range [][]byte{alice, bob} {
			wantDeadline, want, err := jsonCodec{}.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			gotDeadline, got, err := c.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !gotDeadline.Equal(wantDeadline) || !reflect.DeepEqual(got, want) {
				t.Fatalf("decode %d of %s: %v %#v, want %v %#v", i, b, gotDeadline, got, wantDeadline, want)
			}
			// scs changes the values it was given in place.
			got["user_id"], got["flash"] = int64(99), "changed"
			delete(got, "csrf")
		}
	}
	for range 2 {
		if _, _, err := c.Decode([]byte(`{"deadline":"2026-`)); !errors.Is(err, errUndecodable) {
			t.Errorf("truncated: Decode error %v, want errUndecodable", err)
		}
	}
}
