package views

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"portpanel/db"
)

// changeLinksOneByOne is changeLinks as first written: every sample
// compared with every change. The indexed version must agree with it.
func changeLinksOneByOne(samples []db.Sample, changes []db.ChangeMark) map[int64]int64 {
	better := func(c, b db.ChangeMark, at time.Time) bool {
		ce, be := c.UpdatedAt.Equal(at), b.UpdatedAt.Equal(at)
		if ce != be {
			return ce
		}
		if !c.CreatedAt.Equal(b.CreatedAt) {
			return c.CreatedAt.After(b.CreatedAt)
		}
		return c.ID > b.ID
	}
	links := map[int64]int64{}
	used := map[int64]bool{}
	for i := len(samples) - 1; i >= 0; i-- {
		s := samples[i]
		if s.Source != db.SourceChange {
			continue
		}
		best := -1
		for j, c := range changes {
			if used[c.ID] || !tookEffect(c.Status) || c.Low != s.Low || c.High != s.High || c.CreatedAt.After(s.At) {
				continue
			}
			if best < 0 || better(c, changes[best], s.At) {
				best = j
			}
		}
		if best >= 0 {
			used[changes[best].ID] = true
			links[s.ID] = changes[best].ID
		}
	}
	return links
}

// Random histories with few ranges and coarse times, so ties and shared
// ranges are common.
func TestChangeLinksAgreesWithComparingEveryPair(t *testing.T) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	statuses := []string{db.StatusApplied, db.StatusConfirmed, db.StatusReverted, db.StatusFailed, db.StatusProposed}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		at := func() time.Time { return base.Add(time.Duration(r.IntN(40)) * time.Minute) }
		var changes []db.ChangeMark
		for i := range r.IntN(30) {
			created := at()
			updated := created.Add(time.Duration(r.IntN(3)) * 10 * time.Minute)
			changes = append(changes, db.ChangeMark{ID: int64(i + 1), Low: 30000 + r.IntN(3), High: 60999,
				Status: statuses[r.IntN(len(statuses))], CreatedAt: created, UpdatedAt: updated})
		}
		var samples []db.Sample
		for i := range r.IntN(30) {
			src := db.SourceChange
			if r.IntN(4) == 0 {
				src = db.SourceSample
			}
			samples = append(samples, db.Sample{ID: int64(i + 1), At: base.Add(time.Duration(i*2) * time.Minute),
				Low: 30000 + r.IntN(3), High: 60999, Source: src})
		}
		want := changeLinksOneByOne(samples, changes)
		if got := changeLinks(samples, changes); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: changeLinks = %v, comparing every pair gives %v", seed, got, want)
		}
	}
}

func BenchmarkChangeLinks(b *testing.B) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var samples []db.Sample
	var changes []db.ChangeMark
	for h := 720; h > 0; h-- {
		at := now.Add(-time.Duration(h) * time.Hour)
		low := 32768 - 2*(h%5)
		samples = append(samples, db.Sample{ID: int64(721 - h), At: at, Low: low, High: 60999, Source: db.SourceChange})
		changes = append(changes, db.ChangeMark{ID: int64(721 - h), Low: low, High: 60999, Status: db.StatusApplied, CreatedAt: at, UpdatedAt: at})
	}
	for b.Loop() {
		changeLinks(samples, changes)
	}
}
