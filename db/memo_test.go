package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// Memo must reload after every commit, this process's and another
// process's alike, at once; and only then.
func TestMemoFollowsCommits(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, path string) {
		ctx := t.Context()
		d := openAt(t, path)
		other := openAt(t, path)

		var memo db.Memo[string, int]
		loads := 0
		load := func(context.Context) (int, error) { loads++; return loads, nil }
		get := func(ctx context.Context) int {
			t.Helper()
			v, err := memo.Get(ctx, d, "k", load)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		write := func(on *db.DB) {
			t.Helper()
			if err := on.Sessions().CommitCtx(ctx, "t", []byte("x"), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}

		steps := []struct {
			name   string
			do     func()
			reload bool
		}{
			{name: "first read loads", do: func() {}, reload: true},
			{name: "nothing committed: cached", do: func() {}},
			{name: "a commit through this pool reloads", do: func() { write(d) }, reload: true},
			{name: "a commit by another process reloads", do: func() { write(other) }, reload: true},
			{name: "a commit inside a transaction reloads", do: func() {
				if _, err := d.CreateUser(ctx, "carol", "viewer", "x", nil); err != nil {
					t.Fatal(err)
				}
			}, reload: true},
			{name: "a failed write reloads nothing", do: func() {
				if _, err := d.CreateUser(ctx, "carol", "viewer", "x", nil); err == nil {
					t.Fatal("creating carol twice: no error")
				}
			}},
			{name: "then cached again", do: func() {}},
		}
		for _, s := range steps {
			before := loads
			s.do()
			got := get(ctx)
			switch {
			case s.reload && got <= before:
				t.Errorf("%s: value from load #%d, want a new load after #%d", s.name, got, before)
			case !s.reload && got != before:
				t.Errorf("%s: value from load #%d, want the cached #%d", s.name, got, before)
			}
		}

		// Within a snapshot, a commit is not seen: the request reads one state.
		snap := db.WithSnapshot(ctx)
		before, err := memo.Get(snap, d, "k", load)
		if err != nil {
			t.Fatal(err)
		}
		write(other)
		if got, _ := memo.Get(snap, d, "k", load); got != before {
			t.Errorf("in a snapshot after a commit: load #%d, want the snapshot's #%d", got, before)
		}
		if got := get(ctx); got == before {
			t.Errorf("outside the snapshot after a commit: still load #%d", got)
		}
	})
}

// Concurrent readers share data_version checks (see Version); a reader
// must still see every commit that ended before it asked, whoever ran the
// check it got.
func TestMemoUnderConcurrencySeesEarlierCommits(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, path string) {
		ctx := t.Context()
		d := openAt(t, path)
		other := openAt(t, path)

		var memo db.Memo[struct{}, int]
		count := func(ctx context.Context) (n int, err error) {
			err = d.SQL().QueryRowContext(ctx, "SELECT count(*) FROM sessions").Scan(&n)
			return n, err
		}
		const commits = 300
		var committed atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					want := committed.Load()
					got, err := memo.Get(ctx, d, struct{}{}, count)
					if err != nil {
						errs <- err
						return
					}
					if int64(got) < want {
						errs <- fmt.Errorf("read %d sessions after %d were committed", got, want)
						return
					}
				}
			})
		}
		for i := range commits {
			on := d
			if i%2 == 1 {
				on = other
			}
			if err := on.Sessions().CommitCtx(ctx, fmt.Sprint("t", i), []byte("x"), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			committed.Add(1)
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// The check every request makes: keep it cheap (see Version).
func BenchmarkVersion(b *testing.B) {
	d, err := db.Open(context.Background(), filepath.Join(b.TempDir(), "portpanel.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background()) // as a request's
	defer cancel()
	for b.Loop() {
		if _, err := d.Version(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
