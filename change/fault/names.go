package fault

// The points of the apply pipeline, in order.
const (
	IntentRecorded = "intent-recorded" // the change is stored as applying
	// The first key the change sets has its new value, read back; the
	// other (when it sets the reserved ports too) still has its old one.
	KernelFirstWritten = "kernel-first-written"
	KernelWritten      = "kernel-written" // every key has its new value, read back
	TempWritten        = "temp-written"   // the new file is complete beside the old one
	FileRenamed        = "file-renamed"   // the new file replaced the old one
	DBUpdated          = "db-updated"     // the change is stored as applied
)

// Points lists every point, for the crash tests.
var Points = []string{IntentRecorded, KernelFirstWritten, KernelWritten, TempWritten, FileRenamed, DBUpdated}
