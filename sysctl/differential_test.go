package sysctl

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/sysctl/sysctltest"
)

// TestBootDifferential is issue 14's acceptance test: for every tree of
// difftree_test.go the real boot readers (systemd-sysctl 252 with no
// arguments, procps 4.0.2 `sysctl --system`) run inside private network
// and mount namespaces with the tree mounted at the system paths, and what
// the kernel holds afterwards must equal Config.Boot: the range, the
// unprivileged start, and the file and line of the winning write (found
// from the kernel's final low end, which the trees make unique to one
// line). Reproduce a run with the seed it prints:
//
//	go test ./sysctl -run TestBootDifferential -diffseed=S [-difftrees=N]
//
// DIFF_REPORT=/abs/path writes every disagreement there, one block each.
func TestBootDifferential(t *testing.T) {
	seed, n := diffParams(t)
	if !sysctltest.InNetns(t) {
		return
	}
	for _, r := range diffReaders {
		if _, err := os.Stat(r.argv[0]); err != nil {
			t.Skipf("%s not installed: %v", r.argv[0], err)
		}
	}
	t.Logf("seed %d, %d random trees; reproduce: go test ./sysctl -run TestBootDifferential -diffseed=%d -difftrees=%d", seed, n, seed, n)
	trees := tableTrees()
	for i := range n {
		trees = append(trees, randomTree(seed, i))
	}
	t.Run("harness/line numbers", func(t *testing.T) { checkReaderLines(t, seed) })
	start := time.Now()
	var all, diffs []diffCase
	for _, tr := range trees {
		t.Run(tr.name, func(t *testing.T) { all = append(all, runDiffTree(t, seed, tr)...) })
	}
	for _, d := range all {
		if len(d.mismatch) > 0 {
			diffs = append(diffs, d)
		}
	}
	t.Logf("what the readers did: %s", diffOutcomes(all))
	summary := diffSummary(diffs, len(trees), len(all))
	t.Logf("%s in %v (seed %d)", summary, time.Since(start).Round(time.Millisecond), seed)
	if p := os.Getenv(envDiffReport); p != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "# TestBootDifferential seed %d: %s\n\n", seed, summary)
		for _, d := range diffs {
			b.WriteString(d.String() + "\n")
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Errorf("write %s: %v", envDiffReport, err)
		}
	}
}

var (
	diffTreesFlag = flag.Int("difftrees", -1, "random trees TestBootDifferential runs (default 300, or $"+envDiffTrees+")")
	diffSeedFlag  = flag.Uint64("diffseed", 0, "seed of TestBootDifferential's random trees (default $"+envDiffSeed+", else a new one each run)")
)

const (
	envDiffTrees     = "PORTPANEL_DIFF_TREES"
	envDiffSeed      = "PORTPANEL_DIFF_SEED"
	envDiffReport    = "DIFF_REPORT"
	defaultDiffTrees = 300
	readerTimeout    = 20 * time.Second
)

// diffReaders are the real boot readers, run as the boot runs them.
var diffReaders = []struct {
	rd   Reader
	argv []string
}{
	{ReaderSystemd, []string{systemdSysctl}},
	{ReaderProcps, []string{"/usr/sbin/sysctl", "--system"}},
}

// diffParams picks the seed and the number of random trees (flag, then
// environment, then default) and puts them in the environment: the test
// body runs in a re-executed child that gets the environment, not the flags.
func diffParams(t *testing.T) (seed uint64, n int) {
	t.Helper()
	n = defaultDiffTrees
	if s := os.Getenv(envDiffTrees); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			t.Fatalf("%s=%q: want a number of trees", envDiffTrees, s)
		}
		n = v
	}
	if *diffTreesFlag >= 0 {
		n = *diffTreesFlag
	}
	if s := os.Getenv(envDiffSeed); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a seed", envDiffSeed, s)
		}
		seed = v
	}
	if *diffSeedFlag != 0 {
		seed = *diffSeedFlag
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Setenv(envDiffSeed, strconv.FormatUint(seed, 10))
	t.Setenv(envDiffTrees, strconv.Itoa(n))
	return seed, n
}

// diffCase is one comparison of a reader with the model on one tree.
type diffCase struct {
	tree      diffTree
	seed      uint64
	reader    Reader
	mismatch  []string
	real      diffSide
	model     diffSide
	modelNote string // the model's Boot, for whoever fixes it
	output    string // the reader's output and exit status
}

// diffSide is what the kernel holds after a reader, or what the model
// predicts: where is the winning line ("none": the default stayed).
type diffSide struct {
	rng    Range
	unpriv int
	where  string
}

// runDiffTree mounts one tree and compares both readers with the model;
// it returns the comparisons, disagreements also reported with t.Errorf.
func runDiffTree(t *testing.T, seed uint64, tr diffTree) []diffCase {
	if err := checkTree(tr); err != nil {
		t.Fatalf("tree %s (seed %d) is unusable: %v", tr.name, seed, err)
	}
	for _, c := range tr.files {
		if !strings.HasPrefix(c, "-> ") {
			onlyNetIPv4(t, c)
		}
	}
	files := maps.Clone(tr.files)
	files["/lib"] = libLink // as on Debian 12, where the tools run
	c := tree(t, files)
	mountTree(t, c.Root)
	var cases []diffCase
	for _, r := range diffReaders {
		got, unpriv, out := runReader(t, r.argv)
		d := diffCase{tree: tr, seed: seed, reader: r.rd, output: out,
			real: diffSide{rng: got, unpriv: unpriv, where: "none"}}
		var win *lineRef
		if got.Low != DefaultRange.Low {
			refs := lowIndex(tr.files, r.rd)[got.Low]
			if len(refs) != 1 {
				t.Fatalf("tree %s (seed %d): %s left low %d, which no single line has (%v): the tree or lowIndex is wrong\n%s",
					tr.name, seed, r.rd, got.Low, refs, d)
			}
			win = &refs[0]
			d.real.where = win.String()
		} else if got != DefaultRange {
			t.Fatalf("tree %s (seed %d): %s left %v without writing a low", tr.name, seed, r.rd, got)
		}
		b, err := c.Boot(r.rd)
		if err != nil {
			t.Fatalf("Boot(%s): %v", r.rd, err)
		}
		d.model, d.modelNote = modelSide(c, b)
		if d.model.rng != d.real.rng {
			d.mismatch = append(d.mismatch, "range")
		}
		if d.model.unpriv != d.real.unpriv {
			d.mismatch = append(d.mismatch, "unpriv")
		}
		if !sameWinner(c, b, win) {
			d.mismatch = append(d.mismatch, "where")
		}
		if len(d.mismatch) > 0 {
			t.Errorf("model disagrees with the real reader:\n%s", d)
		}
		cases = append(cases, d)
	}
	return cases
}

// runReader resets the kernel to a new namespace's defaults, runs one
// reader and reads back what it left. The exit status is only reported:
// both readers exit non-zero when the kernel refuses a write.
func runReader(t *testing.T, argv []string) (Range, int, string) {
	t.Helper()
	resetKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), readerTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish in %v: %s", argv[0], readerTimeout, out)
	}
	status := "exit 0"
	if err != nil {
		status = err.Error()
	}
	got, rerr := Kernel{ProcSys: sysctltest.ProcSys()}.ReadRange()
	if rerr != nil {
		t.Fatal(rerr)
	}
	return got, readUnpriv(t), status + "\n" + string(out)
}

// resetKernel restores the defaults. Order matters: the kernel refuses an
// unprivileged start above the range's low end and a low end below the
// unprivileged start, so the start goes to 0 first and to 1024 last.
func resetKernel(t *testing.T) {
	t.Helper()
	for _, w := range []struct{ name, value string }{
		{"ip_unprivileged_port_start", "0"},
		{"ip_local_port_range", DefaultRange.String()},
		{"ip_unprivileged_port_start", strconv.Itoa(DefaultUnprivilegedPortStart)},
	} {
		p := filepath.Join(sysctltest.ProcSys(), "net/ipv4", w.name)
		if err := os.WriteFile(p, []byte(w.value+"\n"), 0o644); err != nil {
			t.Fatalf("reset %s: %v", w.name, err)
		}
	}
	if got, err := (Kernel{ProcSys: sysctltest.ProcSys()}).ReadRange(); err != nil || got != DefaultRange || readUnpriv(t) != DefaultUnprivilegedPortStart {
		t.Fatalf("reset the kernel: range %v (%v)", got, err)
	}
}

func readUnpriv(t *testing.T) int {
	t.Helper()
	s, err := os.ReadFile(filepath.Join(sysctltest.ProcSys(), "net/ipv4/ip_unprivileged_port_start"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(s)))
	if err != nil {
		t.Fatalf("ip_unprivileged_port_start: %v", err)
	}
	return n
}

// modelSide is the model's prediction. A model that leaves
// UnprivilegedPortStart at 0 predicts the default (the trees never set 0,
// so the two cannot be confused).
func modelSide(c Config, b Boot) (diffSide, string) {
	s := diffSide{rng: DefaultRange, unpriv: b.UnprivilegedPortStart, where: "none"}
	if s.unpriv == 0 {
		s.unpriv = DefaultUnprivilegedPortStart
	}
	if b.Set {
		s.where = fmt.Sprintf("%s:%d", showPath(c, b.Where.File), b.Where.Line)
		if b.Range != nil {
			s.rng = *b.Range
		} else {
			s.rng = Range{} // set, with no value: a disagreement whatever the kernel holds
		}
	}
	var refused []string
	for _, r := range b.Refused {
		refused = append(refused, fmt.Sprintf("%s:%d %q (%s)", showPath(c, r.Where.File), r.Where.Line, r.Value, r.Reason))
	}
	var globs, files []string
	for _, g := range b.Globs {
		globs = append(globs, fmt.Sprintf("%s:%d", showPath(c, g.File), g.Line))
	}
	for _, f := range b.Files {
		files = append(files, showPath(c, f))
	}
	note := fmt.Sprintf("set=%v value=%q dropped=%v where=%s:%d files=%q refused=%q globs=%q problems=%q uncertain=%q",
		b.Set, b.Value, b.Dropped, showPath(c, b.Where.File), b.Where.Line, files, refused, globs, b.Problems, b.Uncertain)
	return s, note
}

// sameWinner reports whether the model names the line the reader applied
// last (win, nil when the default stayed). Paths are compared as files, so
// /etc/sysctl.d/99-sysctl.conf and /etc/sysctl.conf are the same one.
func sameWinner(c Config, b Boot, win *lineRef) bool {
	if win == nil || !b.Set {
		return win == nil && !b.Set
	}
	if b.Where.Line != win.line {
		return false
	}
	m, err1 := os.Stat(b.Where.File)
	r, err2 := os.Stat(filepath.Join(c.Root, win.file))
	return err1 == nil && err2 == nil && os.SameFile(m, r)
}

// String is the case as a block of "key: value" lines, for the test log
// and the DIFF_REPORT file alike.
func (d diffCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "case: %s\nseed: %d\nreader: %s\nmismatch: %s\n", d.tree.name, d.seed, d.reader, strings.Join(d.mismatch, " "))
	paths := slices.Sorted(maps.Keys(d.tree.files))
	for _, p := range paths {
		if tg, ok := strings.CutPrefix(d.tree.files[p], "-> "); ok {
			fmt.Fprintf(&b, "link: %s -> %s\n", p, tg)
		} else {
			fmt.Fprintf(&b, "file: %s %q\n", p, d.tree.files[p])
		}
	}
	for _, s := range []struct {
		name string
		side diffSide
	}{{"real", d.real}, {"model", d.model}} {
		fmt.Fprintf(&b, "%s: range %s, unprivileged start %d, written by %s\n", s.name, s.side.rng, s.side.unpriv, s.side.where)
	}
	status, out, _ := strings.Cut(d.output, "\n")
	fmt.Fprintf(&b, "model.boot: %s\noutput: %s; %q\n", d.modelNote, status, out)
	return b.String()
}

// diffOutcomes counts what the readers left, per reader, to show that the
// trees exercise each outcome: the default kept, a range set, the
// unprivileged start changed, a write refused (non-zero exit).
func diffOutcomes(cases []diffCase) string {
	count := map[Reader]*[4]int{}
	for _, d := range cases {
		c := count[d.reader]
		if c == nil {
			c = &[4]int{}
			count[d.reader] = c
		}
		if d.real.where == "none" {
			c[0]++
		} else {
			c[1]++
		}
		if d.real.unpriv != DefaultUnprivilegedPortStart {
			c[2]++
		}
		if !strings.HasPrefix(d.output, "exit 0\n") {
			c[3]++
		}
	}
	var parts []string
	for _, r := range diffReaders {
		if c := count[r.rd]; c != nil {
			parts = append(parts, fmt.Sprintf("%s: default kept %d, range set %d, unprivileged start changed %d, exit non-zero %d", r.rd, c[0], c[1], c[2], c[3]))
		}
	}
	return strings.Join(parts, "; ")
}

// diffSummary counts the disagreements by reader and kind, and by the
// class of the tree (the name before "/"; "random" for generated trees).
func diffSummary(diffs []diffCase, trees, comparisons int) string {
	count := map[string]int{}
	for _, d := range diffs {
		class, _, _ := strings.Cut(d.tree.name, "/")
		class, _, _ = strings.Cut(class, "_")
		count[string(d.reader)+" "+strings.Join(d.mismatch, "+")]++
		count[string(d.reader)+" class "+class]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, count[k]))
	}
	s := fmt.Sprintf("%d trees, %d comparisons, %d disagreements", trees, comparisons, len(diffs))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	return s
}

// showPath shows a path under c.Root as the system sees it.
func showPath(c Config, p string) string {
	if rel, err := filepath.Rel(c.Root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "/" + rel
	}
	return p
}
