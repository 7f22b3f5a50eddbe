package views

import (
	"slices"
	"strings"
	"testing"
	"time"

	"portpanel/db"
)

func TestThin(t *testing.T) {
	// saw is n vertices a unit apart from x=0 alternating between y=10
	// and y=20, with y=90 at spike (none if negative).
	saw := func(n, spike int) []point {
		pts := make([]point, n)
		for i := range pts {
			pts[i] = point{float64(i), float64(10 + 10*(i%2))}
			if i == spike {
				pts[i].Y = 90
			}
		}
		return pts
	}
	for _, tt := range []struct {
		name    string
		pts     []point
		columns int
		check   func(t *testing.T, in, out []point)
	}{
		{"a line no longer than the columns is unchanged", saw(50, -1), 100, func(t *testing.T, in, out []point) {
			if !slices.Equal(in, out) {
				t.Errorf("got %v, want the input", out)
			}
		}},
		{"at most four vertices a column", saw(10000, -1), 100, func(t *testing.T, _, out []point) {
			if len(out) > 4*100 {
				t.Errorf("%d vertices for 100 columns", len(out))
			}
		}},
		{"a spike in one column survives", saw(10000, 4321), 100, func(t *testing.T, _, out []point) {
			if !slices.Contains(out, point{4321, 90}) {
				t.Error("the spike is gone")
			}
		}},
		{"every column keeps its lowest and highest", saw(10000, -1), 100, func(t *testing.T, _, out []point) {
			for c := range 100 {
				var ys []float64
				for _, p := range out {
					if int(p.X/100) == c {
						ys = append(ys, p.Y)
					}
				}
				if !slices.Contains(ys, 10) || !slices.Contains(ys, 20) {
					t.Errorf("column %d keeps %v, want 10 and 20", c, ys)
				}
			}
		}},
		{"the ends stay and the order holds", saw(10000, -1), 100, func(t *testing.T, in, out []point) {
			if out[0] != in[0] || out[len(out)-1] != in[len(in)-1] {
				t.Errorf("ends %v, %v; want %v, %v", out[0], out[len(out)-1], in[0], in[len(in)-1])
			}
			if !slices.IsSortedFunc(out, func(a, b point) int { return int(a.X - b.X) }) {
				t.Error("vertices out of order")
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.pts)
			out := thin(tt.pts, 0, float64(len(tt.pts)), tt.columns)
			if !slices.Equal(in, tt.pts) {
				t.Error("thin changed its input")
			}
			tt.check(t, in, out)
		})
	}
}

// A window with a change every few seconds draws no more vertices than
// four a column, and still reaches the lowest and highest value.
func TestBuildChartThinsABusyWindow(t *testing.T) {
	from := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	var samples []db.Sample
	for i := range 20000 {
		low := 30000 + 2*(i%7)
		if i == 12345 {
			low = 20000
		}
		samples = append(samples, db.Sample{ID: int64(i + 1), At: from.Add(time.Duration(i) * 4 * time.Second), Low: low, High: 60999, Source: db.SourceSample})
	}
	v := buildChart(samples, from, to, nil)
	n := strings.Count(v.Low, "L") + 1
	if max := 4 * int(v.Right-v.Left); n > max {
		t.Errorf("low line has %d vertices, want at most %d", n, max)
	}
	if y := num(v.Bottom); !strings.Contains(v.Low, " "+y+" L") && !strings.HasSuffix(v.Low, " "+y) {
		t.Errorf("the dip to 20000 (y=%s, the axis' bottom) is gone", y)
	}
}
