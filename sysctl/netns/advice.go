package netns

import (
	"path/filepath"
	"strconv"

	"portpanel/sysctl"
)

// Advice says how to give a namespace a range. portpanel never does it
// itself: another namespace's range belongs to whoever runs it.
type Advice struct {
	// Now sets the range from outside at once; it lasts until the
	// namespace is created again (a container restart, a pod
	// rescheduled). "" when the namespace has no process or file to enter
	// it by.
	Now string `json:"now,omitempty"`
	// Where says where the setting lives so that it lasts, and Lasting is
	// what to write there ("" when nothing names the creator).
	Where   string `json:"where"`
	Lasting string `json:"lasting,omitempty"`
}

// AdviceFor is how to give ns the range r, for the kind of thing it
// belongs to.
func AdviceFor(ns Namespace, r sysctl.Range) Advice {
	key := sysctl.Key
	value := r.String()
	quoted := `"` + key + "=" + value + `"`
	var a Advice
	switch {
	case len(ns.Paths) > 0:
		a.Now = "nsenter --net=" + ns.Paths[0] + " sysctl -w " + quoted
	case len(ns.Processes) > 0:
		a.Now = "nsenter --net=/proc/" + strconv.Itoa(ns.Processes[0].PID) + "/ns/net sysctl -w " + quoted
	}
	switch ns.Owner.Kind {
	case KindDocker:
		a.Where = "In the container's run options: the container must be created again (in Compose, its sysctls: list)."
		a.Lasting = "docker run --sysctl " + key + `="` + value + `" …`
	case KindPodman:
		a.Where = "In the container's run options: the container must be created again."
		a.Lasting = "podman run --sysctl " + key + `="` + value + `" …`
	case KindKubernetes:
		a.Where = "In the pod's spec: its containers share the namespace. The key is a safe sysctl, allowed by default."
		a.Lasting = "spec:\n  securityContext:\n    sysctls:\n    - name: " + key + "\n      value: \"" + value + "\""
	case KindNspawn:
		a.Where = "Inside the machine " + ns.Owner.Name + ": its own systemd-sysctl applies net.* settings in its namespace at boot."
		a.Lasting = "# /etc/sysctl.d/90-port-range.conf inside the machine\n" + key + " = " + value
	case KindLXC:
		a.Where = "In the container's LXC configuration."
		a.Lasting = "lxc.sysctl." + key + " = " + value
	case KindUnit:
		a.Where = "In the unit that owns the namespace (systemctl edit " + ns.Owner.Name + "): ExecStartPre= runs in its namespace " +
			"(with User=, the unit needs CAP_NET_ADMIN to write the setting)."
		a.Lasting = "[Service]\nExecStartPre=/usr/sbin/sysctl -w " + quoted
	case KindHost:
		a.Where = "In the host's sysctl configuration: portpanel's own change form does that when it runs in the host's namespace."
	default:
		if len(ns.Paths) > 0 {
			a.Where = "In a unit that runs inside " + ns.Paths[0] + " at boot, after the namespace is created and before what uses it."
			a.Lasting = "[Unit]\nDescription=Port range of network namespace " + filepath.Base(ns.Paths[0]) +
				"\n\n[Service]\nType=oneshot\nNetworkNamespacePath=" + ns.Paths[0] + "\nExecStart=/usr/sbin/sysctl -w " + quoted
			break
		}
		a.Where = "Wherever the namespace is created: a new namespace starts with the kernel's default range (" +
			sysctl.DefaultRange.String() + "), not the host's, so its creator must set it inside each time " +
			"(a unit joining a namespace by NetworkNamespacePath= can do it in ExecStartPre=)."
	}
	return a
}
