package views

import "slices"

// thin downsamples a line whose vertices are in x order for a plot of
// columns equal columns over [left, right]: of the vertices in each
// column it keeps the first and the last, so the line enters and leaves
// the column where it did, and the lowest and the highest, so a spike
// narrower than a column stays visible. That is at most four vertices a
// column, drawn as the original would be to the pixel. A line with no
// more vertices than columns is returned as it is.
func thin(pts []point, left, right float64, columns int) []point {
	if len(pts) <= columns || columns < 1 || right <= left {
		return pts
	}
	column := func(x float64) int {
		return min(max(int((x-left)/(right-left)*float64(columns)), 0), columns-1)
	}
	out := make([]point, 0, min(len(pts), 4*columns))
	for i := 0; i < len(pts); {
		c := column(pts[i].X)
		lo, hi, j := i, i, i+1
		for ; j < len(pts) && column(pts[j].X) == c; j++ {
			if pts[j].Y < pts[lo].Y {
				lo = j
			}
			if pts[j].Y > pts[hi].Y {
				hi = j
			}
		}
		keep := [4]int{i, lo, hi, j - 1}
		slices.Sort(keep[:])
		for _, k := range slices.Compact(keep[:]) {
			out = append(out, pts[k])
		}
		i = j
	}
	return out
}
