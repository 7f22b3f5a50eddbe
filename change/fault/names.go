package fault

// The points of the apply pipeline, in order.
const (
	IntentRecorded = "intent-recorded" // the change is stored as applying
	KernelWritten  = "kernel-written"  // the kernel has the new value, read back
	TempWritten    = "temp-written"    // the new file is complete beside the old one
	FileRenamed    = "file-renamed"    // the new file replaced the old one
	DBUpdated      = "db-updated"      // the change is stored as applied
)

// Points lists every point, for the crash tests.
var Points = []string{IntentRecorded, KernelWritten, TempWritten, FileRenamed, DBUpdated}
