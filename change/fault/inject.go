//go:build faultinject

package fault

import (
	"os"
	"syscall"
)

// Env names the point at which a faultinject build kills itself.
const Env = "PORTPANEL_FAULT"

// Point kills the process with SIGKILL, as a power cut or the OOM killer
// would, when name is the point named in $PORTPANEL_FAULT. SIGKILL cannot
// be caught, so no deferred cleanup runs: exactly the crash to survive.
func Point(name string) {
	if os.Getenv(Env) == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is asynchronous; never run past the point
	}
}
