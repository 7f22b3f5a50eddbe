package fleet_test

import (
	"context"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db/dbtest"
	"portpanel/db/dbtest/pgtest"
	"portpanel/fleet"
)

// A desired change made through one replica wakes an agent long-polling
// the other, by NOTIFY or, with NOTIFY unheard, by the recheck; with
// neither the poll sleeps on (which says the wake-up came from the hub).
// PostgreSQL only: replicas need it.
func TestChangeOnOneReplicaWakesAPollOnTheOther(t *testing.T) {
	tests := []struct {
		name    string
		listen  bool
		recheck time.Duration
		cut     bool // cut the listeners' connections first: they listen again
		wakes   bool
	}{
		{"NOTIFY", true, -1, false, true},
		{"NOTIFY after the listening connection was cut", true, -1, true, true},
		{"the recheck alone", false, 200 * time.Millisecond, false, true},
		{"neither", false, -1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := pgtest.Database(t)
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			replica := func() *fleet.Service {
				hub := &fleet.ReplicaHub{DB: dbtest.OpenDSN(t, dsn), Listen: tt.listen, Recheck: tt.recheck,
					Report: func(err error) { t.Logf("hub: %v", err) }}
				done := make(chan struct{})
				go func() { hub.Run(ctx); close(done) }()
				t.Cleanup(func() { stop(); <-done })
				return &fleet.Service{DB: hub.DB, Hub: hub}
			}
			a, b := replica(), replica()
			agent, _ := enrollHost(t, a, "web1")
			time.Sleep(300 * time.Millisecond) // the listeners listen, the rechecks have looked once
			if tt.cut {
				var n int
				if err := a.DB.SQL().QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
					WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&n); err != nil || n != 2 {
					t.Fatalf("cut %d listening connections, %v; want 2", n, err)
				}
				time.Sleep(1500 * time.Millisecond) // the hubs listen again after a second
			}

			got := make(chan agentapi.Desired, 1)
			go func() {
				d, err := b.Desired(ctx, agent, 0, 3*time.Second)
				if err != nil {
					t.Error(err)
				}
				got <- d
			}()
			time.Sleep(100 * time.Millisecond) // the poll is held
			start := time.Now()
			change := &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: "20000 60000"}}
			if _, err := a.SetDesired(ctx, "web1", change, nil); err != nil {
				t.Fatal(err)
			}
			d := <-got
			in := time.Since(start)
			if d.Generation != 1 {
				t.Fatalf("the poll on the other replica answered generation %d, want 1", d.Generation)
			}
			if woken := in < time.Second; woken != tt.wakes {
				t.Errorf("the poll answered %v after the change; want woken (within 1 s): %v", in, tt.wakes)
			}
		})
	}
}
