package fleet_test

import "portpanel/fleet"

// benchSettings lets the benchmark poll each host back to back: the
// floor exists to slow one host down, the benchmark measures the cost.
func benchSettings(s *fleet.Service) { s.PollFloor = 1 }
