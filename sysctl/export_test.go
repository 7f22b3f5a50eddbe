package sysctl

// BreakKeptRange swaps the kept descriptor of the range file for one that
// cannot be read, as if the kernel had taken the file away.
func (f *KernelFiles) BreakKeptRange() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fds[rangeFile] = -1
}
