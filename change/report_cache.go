package change

import (
	"sync"
	"time"

	"portpanel/sysctl"
)

// DefaultReportMaxAge is how old the boot value shown may be when
// Service.ReportMaxAge is zero.
const DefaultReportMaxAge = time.Second

// RangeMaxAge is how old the running range Status shows may be: requests
// arriving within it share one read of /proc/sys (a system call each,
// a tenth of an API call's time in the server). Far below what a person
// can notice after running sysctl -w; portpanel's own writes show at once
// (writeKernel). A negative ReportMaxAge turns it off too.
const RangeMaxAge = 100 * time.Millisecond

// writeKernel is Kernel.WriteRange; once it is done, Status reads the
// kernel afresh.
func (s *Service) writeKernel(r sysctl.Range) error {
	defer s.kernelFiles().Wrote()
	return s.Kernel.WriteRange(r)
}

// Every page and API read shows the value the host will boot with, and
// resolving it reads and parses every sysctl config file (about 0.5 ms,
// BenchmarkReport), so Status reuses a report for up to ReportMaxAge. A
// change portpanel writes shows at once: every write of the managed file
// (writeFile, undoFile) counts in fileWrites, and a report computed before
// the latest write is not reused. Hand edits of any file show within
// ReportMaxAge. Preview, Apply and the stale checks never use this cache.
type reportCache struct {
	mu     sync.Mutex
	at     time.Time // monotonic: a test's frozen clock must not freeze the cache
	key    reportKey
	writes uint64 // fileWrites when value was computed
	value  sysctl.BootReport
	// files and the Kernel they read, for Status.
	files   *sysctl.KernelFiles
	filesOf sysctl.Kernel
}

type reportKey struct {
	file   string
	reader sysctl.Reader
	config sysctl.Config
}

func (s *Service) bootReport() (sysctl.BootReport, error) {
	maxAge := s.reportMaxAge()
	key := reportKey{file: s.File, reader: s.Reader, config: s.Config}
	// Read before the files: a write landing during Report makes the
	// cached report count as older than it is, never newer.
	writes := s.fileWrites.Load()
	c := &s.report
	c.mu.Lock()
	defer c.mu.Unlock()
	if maxAge > 0 && !c.at.IsZero() && time.Since(c.at) < maxAge && c.key == key && c.writes == writes {
		return c.value, nil
	}
	rep, err := s.Config.Report(s.File, s.Reader)
	if err != nil {
		return rep, err
	}
	c.at, c.key, c.writes, c.value = time.Now(), key, writes, rep
	return rep, nil
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
		s.report.files.SettingsMaxAge = s.reportMaxAge()
		s.report.files.RangeMaxAge = min(s.reportMaxAge(), RangeMaxAge)
	}
	return s.report.files
}

func (s *Service) reportMaxAge() time.Duration {
	if s.ReportMaxAge == 0 {
		return DefaultReportMaxAge
	}
	return max(s.ReportMaxAge, 0)
}
