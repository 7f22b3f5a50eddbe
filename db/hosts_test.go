package db_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// enrollAll enrolls hosts under names.
func enrollAll(t *testing.T, d *db.DB, names ...string) {
	t.Helper()
	for _, n := range names {
		newToken(t, d, n, t0.Add(time.Hour))
		if _, err := enroll(d, n, n, t0); err != nil {
			t.Fatalf("enroll %s: %v", n, err)
		}
	}
}

func TestRotateHostKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "web1")
		ctx := context.Background()
		h, err := d.RotateHostKey(ctx, "web1", "key-web1", "k2", t0.Add(10*time.Minute), nil)
		if err != nil || h.PublicKey != "k2" || h.PrevPublicKey != "key-web1" || !h.PrevKeyUntil.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("rotate = %+v, %v", h, err)
		}
		if _, err := d.RotateHostKey(ctx, "web1", "key-web1", "k3", t0, nil); !errors.Is(err, db.ErrConflict) {
			t.Errorf("rotate from the previous key = %v, want ErrConflict", err)
		}
	})
}

func TestUseNonceRefusesAReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "web1", "web2")
		ctx := context.Background()
		w1, _ := d.HostByName(ctx, "web1")
		w2, _ := d.HostByName(ctx, "web2")
		for _, c := range []struct {
			name  string
			host  int64
			nonce string
			want  bool
		}{
			{"first use", w1.ID, "n1", true},
			{"replay", w1.ID, "n1", false},
			{"same nonce on another host", w2.ID, "n1", true},
		} {
			if got, err := d.UseNonce(ctx, c.host, c.nonce, t0); err != nil || got != c.want {
				t.Errorf("%s: UseNonce = %v, %v; want %v", c.name, got, err, c.want)
			}
		}
		if n, err := d.PruneNonces(ctx, t0.Add(time.Second)); err != nil || n != 2 {
			t.Errorf("prune = %d, %v; want 2", n, err)
		}
	})
}

func TestReportsMoveResultsForwardAndKeepSamples(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "web1")
		ctx := context.Background()
		h, _ := d.HostByName(ctx, "web1")
		if _, err := d.ConfirmGeneration(ctx, "web1", 3); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ConfirmGeneration(ctx, "web1", 4); err != nil {
			t.Fatal(err)
		}
		inUse := 7
		report := func(at time.Time, gen int64, settled ...int64) db.Host {
			t.Helper()
			got, err := d.RecordHostReport(ctx, h.ID, db.HostReport{At: at, Version: "2", PollSeconds: 30,
				Observed: []byte(`{"runtime":{}}`), Settled: settled,
				Result: &db.HostResult{Generation: gen, State: fmt.Sprint("state", gen), At: &at},
				Sample: &db.HostSample{Low: 1000, High: 2000 + int(gen), InUse: &inUse, Risk: "ok"}})
			if err != nil {
				t.Fatalf("record report: %v", err)
			}
			return got
		}
		report(t0, 3, 3)
		got := report(t0.Add(time.Minute), 2) // an older result arrives late
		stored, err := d.HostByName(ctx, "web1")
		if err != nil || !reflect.DeepEqual(got, stored) {
			t.Errorf("returned %+v\nstored   %+v (%v)", got, stored, err)
		}
		if stored.Applied.Generation != 3 || stored.Applied.State != "state3" {
			t.Errorf("applied = %+v, want generation 3 kept", stored.Applied)
		}
		if !reflect.DeepEqual(stored.Confirm, []int64{4}) || stored.PollSeconds != 30 || !stored.ReportedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("host after reports: %+v", stored)
		}
		samples, err := d.HostSamplesSince(ctx, h.ID, t0.Add(30*time.Second))
		if err != nil || len(samples) != 2 || samples[0].High != 2003 || samples[1].High != 2002 || *samples[1].InUse != 7 {
			t.Errorf("samples since = %+v, %v; want the edge sample then the later one", samples, err)
		}
		if n, err := d.PruneHostSamples(ctx, t0.Add(time.Second)); err != nil || n != 1 {
			t.Errorf("prune = %d, %v; want 1", n, err)
		}
	})
}

func TestHostsArePagedByName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "c", "a", "b")
		ctx := context.Background()
		var names []string
		after := ""
		for {
			page, err := d.Hosts(ctx, db.HostQuery{After: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, h := range page {
				names = append(names, h.Name)
			}
			after = page[len(page)-1].Name
		}
		if !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
			t.Errorf("pages = %v", names)
		}
		if page, err := d.Hosts(ctx, db.HostQuery{Group: "db"}); err != nil || len(page) != 0 {
			t.Errorf("group db = %v, %v; want none", page, err)
		}
	})
}

func TestPreviewAnsweredOnceByItsHostOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "web1", "web2")
		ctx := context.Background()
		w1, _ := d.HostByName(ctx, "web1")
		w2, _ := d.HostByName(ctx, "web2")
		if _, err := d.AddPreview(ctx, db.HostPreview{ID: "p1", HostID: w1.ID, Keys: []byte(`{}`), CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		offer := db.PreviewOffer{Since: t0, Again: t0.Add(-time.Second)}
		if p, err := d.OfferPreviews(ctx, w2.ID, offer, t0); err != nil || len(p) != 0 {
			t.Fatalf("another host's previews offered = %v, %v; want none", p, err)
		}
		if p, err := d.OfferPreviews(ctx, w1.ID, offer, t0); err != nil || len(p) != 1 || p[0].ID != "p1" {
			t.Fatalf("offered = %v, %v; want p1", p, err)
		}
		if p, err := d.OfferPreviews(ctx, w1.ID, offer, t0); err != nil || len(p) != 0 {
			t.Fatalf("offered again at once = %v, %v; want nothing", p, err)
		}
		if err := d.AnswerPreview(ctx, w2.ID, "p1", []byte(`{}`), t0); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("answer by another host = %v, want ErrNotFound", err)
		}
		if err := d.AnswerPreview(ctx, w1.ID, "p1", []byte(`{"id":"p1"}`), t0); err != nil {
			t.Errorf("answer = %v", err)
		}
		if err := d.AnswerPreview(ctx, w1.ID, "p1", []byte(`{}`), t0); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("second answer = %v, want ErrNotFound", err)
		}
		if p, err := d.Preview(ctx, "p1"); err != nil || string(p.Answer) != `{"id":"p1"}` || p.AnsweredAt == nil {
			t.Errorf("preview = %+v, %v", p, err)
		}
	})
}

// Confirmations are a read-modify-write of one column: concurrent ones
// must all stay (PostgreSQL's READ COMMITTED would lose some unlocked).
func TestConcurrentConfirmationsAllStay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "web1")
		ctx := context.Background()
		var wg sync.WaitGroup
		for g := range int64(10) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.ConfirmGeneration(ctx, "web1", g+1); err != nil {
					t.Errorf("confirm %d: %v", g+1, err)
				}
			}()
		}
		wg.Wait()
		h, err := d.HostByName(ctx, "web1")
		if err != nil || len(h.Confirm) != 10 {
			t.Errorf("confirmed %v (%v), want all 10 generations", h.Confirm, err)
		}
	})
}
