package cli

import (
	"context"

	"portpanel/sysctl/netns"
)

// namespaceScan refreshes the network namespaces page's scan every sample
// interval, one interval after the scan serve takes at start. It is a
// loop of its own, beside jobs(): it enters other namespaces, and a slow
// or failing scan there must not delay the host's samples.
func namespaceScan(cfg serveConfig, m *netns.Monitor) loop {
	return loop{name: "scan network namespaces", first: cfg.sampleInterval, every: cfg.sampleInterval, run: func(ctx context.Context) error {
		_, err := m.Refresh(ctx)
		return err
	}}
}
