package views

// HostChange is the form that changes an enrolled host's range, on its
// host page (HostChangeForm). Its review is the Review change page with
// Host set, which posts back to the host's route.
type HostChange struct {
	Host string
	CSRF string
	Form ChangeForm
	// RequireApproval: the change waits for a second person.
	RequireApproval bool
}

// hostChangesURL is where a host's change form posts.
func hostChangesURL(host string) string { return HostURL(host) + "/changes" }

// previewAction is where the review page's forms post: the local host's
// route, or the remote host's.
func previewAction(p PreviewPage) string {
	if p.Host != "" {
		return hostChangesURL(p.Host)
	}
	return "/changes"
}
