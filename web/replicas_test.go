package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/handlers/throttle"
	"portpanel/internal/testclock"
	"portpanel/sysctl/sysctltest"
)

// replicas serves n copies of the panel on the database dsn, each with a
// database handle (a pool, a memo) and a limiter of its own, as n serve
// processes would be: what they share is what is in the database.
func replicas(t *testing.T, dsn string, n int, clk *testclock.Clock) []*env {
	t.Helper()
	procSys := sysctltest.ProcSys()
	var out []*env
	for range n {
		d, err := db.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		l := throttle.New(throttle.Config{Now: clk.Now, Store: throttle.DBStore{DB: d}})
		out = append(out, withLimiter(t, newEnvDB(t, procSys, d), l))
	}
	return out
}

// An attacker who alternates replicas is throttled as one who sticks to
// one: the counts are in the database. With a limiter in memory per
// replica, alternating two replicas doubled the free failures and halved
// every wait.
func TestThrottleAcrossReplicas(t *testing.T) { dbtest.EachURL(t, testThrottleAcrossReplicas) }

func testThrottleAcrossReplicas(t *testing.T, dsn string) {
	// guess makes 16 wrong guesses from attacker, waiting out every other
	// wait, each on the next server in turn, and returns what each got.
	guess := func(servers []*env, clk *testclock.Clock, attacker string) []string {
		var got []string
		first := servers[0].client(t)
		token := first.csrf("/login")
		for i := range 16 {
			c := first
			c.base = servers[i%len(servers)].srv.URL // the same session cookie, another replica
			status, retry, _ := signIn(t, c, token, attacker, "admin1", "wrong password!")
			got = append(got, fmt.Sprintf("%d retry=%q", status, retry))
			if secs, _ := strconv.Atoi(retry); secs > 0 && i%2 == 1 {
				clk.Advance(time.Duration(secs) * time.Second)
			}
		}
		return got
	}
	// One database, two attackers: the counts are per address, so each
	// run starts from none.
	clk := newClock()
	rs := replicas(t, dsn, 2, clk)
	rs[0].addUser(t, "admin1", auth.RoleAdmin)
	one := guess(rs[:1], clk, "192.0.2.66")
	two := guess(rs, clk, "192.0.2.67")
	for i := range one {
		if one[i] != two[i] {
			t.Errorf("guess %d: %s on one server, %s alternating two", i+1, one[i], two[i])
		}
	}
	if one[6] != `429 retry="1"` {
		t.Errorf("the seventh guess got %s, want 429 after 1 s (five free failures, the sixth sets the wait)", one[6])
	}
}

// A session made on one replica works on the other, and signing out on
// one ends it on both.
func TestSessionAcrossReplicas(t *testing.T) { dbtest.EachURL(t, testSessionAcrossReplicas) }

func testSessionAcrossReplicas(t *testing.T, dsn string) {
	rs := replicas(t, dsn, 2, newClock())
	a, b := rs[0], rs[1]
	c := a.login(t, auth.RoleViewer)
	c.base = b.srv.URL
	if res := c.get("/account"); res.StatusCode != http.StatusOK {
		t.Fatalf("the session made on replica A, on replica B: %d, want 200", res.StatusCode)
	}
	token := c.csrf("/account") // the form's token, from B
	c.base = a.srv.URL
	if res := c.post("/logout", map[string][]string{"csrf": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out on A with B's form token: %d, want 303", res.StatusCode)
	}
	c.base = b.srv.URL
	if res := c.get("/account"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the session ended on A, on B: %d, want 303 to the login page", res.StatusCode)
	}
}
