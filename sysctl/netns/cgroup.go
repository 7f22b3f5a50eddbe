package netns

import (
	"strconv"
	"strings"
)

// Kind is what a network namespace belongs to, as far as the cgroup paths
// of its processes say. The set is fixed: metrics use it as a label.
type Kind string

const (
	KindHost       Kind = "host" // the initial network namespace
	KindDocker     Kind = "docker"
	KindKubernetes Kind = "kubernetes"
	KindPodman     Kind = "podman"
	KindNspawn     Kind = "nspawn"
	KindLXC        Kind = "lxc"
	KindUnit       Kind = "systemd-unit" // a service with PrivateNetwork= or the like
	KindOther      Kind = "other"        // nothing recognisable, e.g. `unshare -n` or `ip netns`
)

// Owner is the container, pod, machine or unit a process runs in.
type Owner struct {
	Kind Kind `json:"kind"`
	// ID is the container ID (64 hex digits) for Docker, Kubernetes and
	// Podman.
	ID string `json:"id,omitempty"`
	// Pod is the Kubernetes pod UID, with dashes.
	Pod string `json:"pod,omitempty"`
	// Runtime is Kubernetes' container runtime: containerd, cri-o or docker.
	Runtime string `json:"runtime,omitempty"`
	// Name is the nspawn machine, the LXC container or the systemd unit.
	Name string `json:"name,omitempty"`
}

// OwnerOf reads the owner from the text of /proc/PID/cgroup
// ("hierarchy:controllers:path" per line). The unified hierarchy's line
// ("0::") is asked first, then the v1 lines in order; the first path that
// names an owner wins. Kind is KindOther when none does.
func OwnerOf(cgroupFile string) Owner {
	lines := strings.Split(strings.TrimSpace(cgroupFile), "\n")
	var paths []string
	for _, l := range lines {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			paths = append([]string{p}, paths...)
		} else if _, rest, ok := strings.Cut(l, ":"); ok {
			if _, p, ok := strings.Cut(rest, ":"); ok {
				paths = append(paths, p)
			}
		}
	}
	for _, p := range paths {
		if o, ok := ownerOfPath(p); ok {
			return o
		}
	}
	return Owner{Kind: KindOther}
}

// ownerOfPath recognises one cgroup path. Kubernetes comes first because
// its containers also carry a runtime's name (docker-ID.scope under a
// pod's slice); then the innermost container, because a path may nest
// one in another (Kubernetes in Docker, Docker in Docker).
func ownerOfPath(path string) (Owner, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if o, ok := kubernetes(parts); ok {
		return o, true
	}
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		var prev string
		if i > 0 {
			prev = parts[i-1]
		}
		switch {
		case prev == "docker" && isContainerID(p): // cgroupfs driver
			return Owner{Kind: KindDocker, ID: p}, true
		case scoped(p, "docker-") != "":
			return Owner{Kind: KindDocker, ID: scoped(p, "docker-")}, true
		case scoped(p, "libpod-") != "":
			return Owner{Kind: KindPodman, ID: scoped(p, "libpod-")}, true
		case prev == "machine.slice" && strings.HasPrefix(p, "machine-") && strings.HasSuffix(p, ".scope"):
			return Owner{Kind: KindNspawn, Name: unescape(strings.TrimSuffix(strings.TrimPrefix(p, "machine-"), ".scope"))}, true
		case strings.HasPrefix(p, "lxc.payload."):
			return Owner{Kind: KindLXC, Name: strings.TrimPrefix(p, "lxc.payload.")}, true
		case prev == "lxc" && p != "":
			return Owner{Kind: KindLXC, Name: p}, true
		}
	}
	for i := len(parts) - 1; i >= 0; i-- {
		if strings.HasSuffix(parts[i], ".service") {
			return Owner{Kind: KindUnit, Name: unescape(parts[i])}, true
		}
	}
	return Owner{}, false
}

// kubernetes recognises a pod's container under kubepods: with the
// systemd driver ".../kubepods-burstable-pod<uid_with_underscores>.slice/
// cri-containerd-<id>.scope" (or crio-, docker-), with cgroupfs
// ".../kubepods/burstable/pod<uid>/<id>".
func kubernetes(parts []string) (Owner, bool) {
	for i, p := range parts {
		if !strings.Contains(p, "kubepods") {
			continue
		}
		for j := i; j < len(parts); j++ {
			uid, ok := podUID(parts[j])
			if !ok {
				continue
			}
			o := Owner{Kind: KindKubernetes, Pod: uid}
			if j+1 < len(parts) {
				o.ID, o.Runtime = containerOf(parts[j+1])
			}
			return o, true
		}
	}
	return Owner{}, false
}

// podUID takes the UID from "kubepods-besteffort-pod<uid>.slice" or
// "pod<uid>"; the systemd driver writes its dashes as underscores.
func podUID(p string) (string, bool) {
	p = strings.TrimSuffix(p, ".slice")
	i := strings.LastIndex(p, "pod")
	if i < 0 || (i > 0 && p[i-1] != '-') {
		return "", false
	}
	uid := strings.ReplaceAll(p[i+3:], "_", "-")
	if len(uid) != 36 || strings.Count(uid, "-") != 4 || !isHex(strings.ReplaceAll(uid, "-", "")) {
		return "", false
	}
	return uid, true
}

// containerOf names the container and runtime of a pod's child cgroup.
func containerOf(p string) (id, runtime string) {
	for _, r := range []struct{ prefix, runtime string }{
		{"cri-containerd-", "containerd"}, {"crio-", "cri-o"}, {"docker-", "docker"},
	} {
		if id := scoped(p, r.prefix); id != "" {
			return id, r.runtime
		}
	}
	if isContainerID(p) { // cgroupfs driver: the bare ID, runtime unknown
		return p, ""
	}
	return "", ""
}

// scoped returns ID from "<prefix><ID>.scope" when ID is a container ID;
// it leaves out conmon's "libpod-conmon-<ID>.scope" and CRI-O's
// "crio-conmon-<ID>.scope", which run in the host's namespace.
func scoped(p, prefix string) string {
	id, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return ""
	}
	id, ok = strings.CutSuffix(id, ".scope")
	if !ok || !isContainerID(id) {
		return ""
	}
	return id
}

func isContainerID(s string) bool { return len(s) == 64 && isHex(s) }

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// unescape undoes systemd's unit name escaping ("debian\x2d12" is
// "debian-12"); anything malformed is kept as it is.
func unescape(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// String says the owner in words: "Docker container 4f3c1c7bd5a0".
func (o Owner) String() string {
	switch o.Kind {
	case KindHost:
		return "the host"
	case KindDocker:
		return "Docker container " + short(o.ID)
	case KindPodman:
		return "Podman container " + short(o.ID)
	case KindKubernetes:
		s := "Kubernetes pod " + o.Pod
		if o.ID != "" {
			s += ", container " + short(o.ID)
		}
		if o.Runtime != "" {
			s += " (" + o.Runtime + ")"
		}
		return s
	case KindNspawn:
		return "systemd-nspawn machine " + o.Name
	case KindLXC:
		return "LXC container " + o.Name
	case KindUnit:
		return "systemd unit " + o.Name
	}
	return "no container or unit recognised"
}

// short is the 12-digit form Docker and Podman print.
func short(id string) string { return id[:min(12, len(id))] }
