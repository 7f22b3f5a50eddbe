package change

import (
	"sync"
	"time"

	"portpanel/sysctl"
)

// ReportMaxAge is how old the boot value Status shows may be.
const ReportMaxAge = time.Second

// Every page and API read shows the value the host will boot with, and
// resolving it lists, resolves and parses every sysctl config file (about
// 0.5 ms, sysctl's BenchmarkReport), which took the API and the dashboard
// far below their throughput targets (BENCHMARKS.md). So Status reuses a
// report for up to ReportMaxAge. A change portpanel writes shows at once:
// every write of the managed file (writeFile, undoFile) counts in
// fileWrites, and a report computed before the latest write is not reused.
// Hand edits of any file show within ReportMaxAge. Preview, Apply and the
// stale checks never use this cache.
type reportCache struct {
	mu     sync.Mutex
	at     time.Time // monotonic: a test's frozen clock must not freeze the cache
	key    reportKey
	writes uint64 // fileWrites when value was computed
	value  sysctl.BootReport
	id     uint64 // counts the reports computed: see Status.ReportID
	// files and the Kernel they read, for Status.
	files   *sysctl.KernelFiles
	filesOf sysctl.Kernel
}

type reportKey struct {
	file   string
	reader sysctl.Reader
	config sysctl.Config
}

func (s *Service) bootReport() (sysctl.BootReport, uint64, error) {
	key := reportKey{file: s.File, reader: s.Reader, config: s.Config}
	// Read before the files: a write landing during Report makes the
	// cached report count as older than it is, never newer.
	writes := s.fileWrites.Load()
	c := &s.report
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < ReportMaxAge && c.key == key && c.writes == writes {
		return c.value, c.id, nil
	}
	rep, err := s.Config.Report(s.File, s.Reader)
	if err != nil {
		return rep, 0, err
	}
	c.id++
	c.at, c.key, c.writes, c.value = time.Now(), key, writes, rep
	return rep, c.id, nil
}

// kernelFiles is the kept-open reader of s.Kernel's files (see
// sysctl.KernelFiles) that Status uses; the change workflow opens the files
// afresh.
func (s *Service) kernelFiles() *sysctl.KernelFiles {
	s.report.mu.Lock()
	defer s.report.mu.Unlock()
	if s.report.files == nil || s.report.filesOf != s.Kernel {
		// The old files are not closed: a Status may still be reading
		// them, and a closed descriptor's number can be reused by another
		// file. Only tests change Kernel on a running service.
		s.report.files, s.report.filesOf = s.Kernel.Files(), s.Kernel
	}
	return s.report.files
}
