//go:build !faultinject

// Package fault marks the points of the apply pipeline where the crash
// tests kill the process. In a normal build a point does nothing; the
// faultinject build tag (crash tests only) makes it able to kill.
package fault

// Point marks a step the apply pipeline has just completed.
func Point(name string) {}
