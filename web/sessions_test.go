package web_test

import (
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"time"

	"portpanel/db"
)

// Sessions are stored with scs's gob codec. One stored otherwise (by an
// older portpanel's own binary codec, or damaged) cannot be decoded: it is
// no session, so its user signs in again, and nothing answers 500.
func TestUndecodableSessionIsNoSession(t *testing.T) {
	tests := []struct {
		name string
		data func(userID int64) []byte
	}{
		{name: "older portpanel's binary format", data: oldFormatSession},
		{name: "damaged", data: func(int64) []byte { return []byte("not a session") }},
		{name: "empty", data: func(int64) []byte { return []byte{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "/proc/sys")
			alice := e.addUser(t, "alice", db.RoleViewer)
			c := e.client(t)
			signInAs(t, c, "alice")
			if res := c.get("/"); res.StatusCode != http.StatusOK {
				t.Fatalf("GET / signed in: %d, want 200", res.StatusCode)
			}
			if _, err := e.h.DB.SQL().Exec(`UPDATE sessions SET data = ?`, tt.data(alice.ID)); err != nil {
				t.Fatal(err)
			}
			if res := c.get("/"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Errorf("GET / with the undecodable session: %d to %q, want 303 to the sign-in page", res.StatusCode, res.Header.Get("Location"))
			}
			if res := c.get("/api/v1/range"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /api/v1/range with the undecodable session: %d, want 401", res.StatusCode)
			}
			signInAs(t, c, "alice")
			if res := c.get("/"); res.StatusCode != http.StatusOK {
				t.Errorf("GET / signed in again: %d, want 200", res.StatusCode)
			}
		})
	}
}

// oldFormatSession is a signed-in session as portpanel's own codec stored
// it before scs's gob codec came back: a magic byte, the deadline in unix
// nanoseconds, the number of values, then per value its key, a type byte
// and the value.
func oldFormatSession(userID int64) []byte {
	b := []byte{0xB1}
	b = binary.AppendVarint(b, time.Now().Add(time.Hour).UnixNano())
	b = binary.AppendUvarint(b, 3)
	for _, kv := range []struct {
		k string
		v int64
	}{{"user_id", userID}, {"user_epoch", 0}, {"seen", time.Now().UnixMilli()}} {
		b = binary.AppendUvarint(b, uint64(len(kv.k)))
		b = append(b, kv.k...)
		b = append(b, 'i')
		b = binary.AppendVarint(b, kv.v)
	}
	return b
}
