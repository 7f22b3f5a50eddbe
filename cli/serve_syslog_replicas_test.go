package cli

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/db/dbtest/pgtest"
	"portpanel/internal/syslogtest"
)

var syslogEventID = regexp.MustCompile(` id="(\d+)"`)

// Two replicas sending to one collector send each audit event once, the
// one replica that reads for syslog sending every replica's; when it
// stops, the other goes on from where it got. Forwarding on every replica
// sent each event once per replica.
func TestSyslogAcrossReplicasSendsEachEventOnce(t *testing.T) {
	dsn := pgtest.Database(t)
	col := syslogtest.Listen(t, "tcp")
	d := dbtest.OpenDSN(t, dsn)
	ctx := context.Background()
	got := map[int64]int{}
	note := func(detail string) int64 {
		e, err := d.AppendAudit(ctx, db.AuditEvent{Action: "test.note", Detail: detail})
		if err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	// readUntil collects messages until event id has come.
	readUntil := func(t *testing.T, id int64) {
		for got[id] == 0 {
			m := col.Next(t)
			if s := syslogEventID.FindStringSubmatch(m); s != nil {
				n, _ := strconv.ParseInt(s[1], 10, 64)
				got[n]++
			}
		}
	}
	t.Run("two replicas", func(st *testing.T) {
		// The first, the reader, stops at the end of this subtest; the
		// second lives to the end of the test.
		startServe(st, "--db", dsn, "--syslog", "tcp://"+col.Addr)
		time.Sleep(2 * syslogPoll)
		startServe(t, "--db", dsn, "--syslog", "tcp://"+col.Addr)
		for i := range 3 {
			readUntil(st, note("while two replicas run "+strconv.Itoa(i)))
		}
	})
	last := note("after one stopped")
	readUntil(t, last)
	col.None(t, 3*syslogPoll) // a duplicate would come within a poll or two

	events, err := d.Audit(ctx, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.ID > last {
			continue
		}
		if got[e.ID] != 1 {
			t.Errorf("audit event %d (%s) sent %d times, want once", e.ID, e.Action, got[e.ID])
		}
	}
}
