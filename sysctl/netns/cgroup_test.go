package netns

import "testing"

// Container IDs and pod UIDs as runtimes print them.
const (
	dockerID = "4f3c1c7bd5a0e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
	innerID  = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	testPod  = "6c1a2c3e-9a4f-4b6e-8f3d-2b1c0d9e8f7a"
	testPodU = "6c1a2c3e_9a4f_4b6e_8f3d_2b1c0d9e8f7a" // the systemd driver's spelling
)

func TestOwnerOf(t *testing.T) {
	for _, tt := range []struct {
		name, cgroup string
		want         Owner
	}{
		{"docker, systemd driver, cgroup v2",
			"0::/system.slice/docker-" + dockerID + ".scope",
			Owner{Kind: KindDocker, ID: dockerID}},
		{"docker, cgroupfs driver, cgroup v1 (the unified line is empty)",
			"12:pids:/docker/" + dockerID + "\n11:memory:/docker/" + dockerID + "\n1:name=systemd:/docker/" + dockerID + "\n0::/",
			Owner{Kind: KindDocker, ID: dockerID}},
		{"docker in docker names the inner container",
			"0::/docker/" + dockerID + "/docker/" + innerID,
			Owner{Kind: KindDocker, ID: innerID}},
		{"kubernetes, containerd, systemd driver",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + testPodU + ".slice/cri-containerd-" + innerID + ".scope",
			Owner{Kind: KindKubernetes, Pod: testPod, ID: innerID, Runtime: "containerd"}},
		{"kubernetes, guaranteed QoS has no class slice",
			"0::/kubepods.slice/kubepods-pod" + testPodU + ".slice/cri-containerd-" + innerID + ".scope",
			Owner{Kind: KindKubernetes, Pod: testPod, ID: innerID, Runtime: "containerd"}},
		{"kubernetes, cri-o",
			"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + testPodU + ".slice/crio-" + innerID + ".scope",
			Owner{Kind: KindKubernetes, Pod: testPod, ID: innerID, Runtime: "cri-o"}},
		{"kubernetes with dockershim is kubernetes, not docker",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + testPodU + ".slice/docker-" + innerID + ".scope",
			Owner{Kind: KindKubernetes, Pod: testPod, ID: innerID, Runtime: "docker"}},
		{"kubernetes, cgroupfs driver (k3s), cgroup v1",
			"10:cpuset:/kubepods/besteffort/pod" + testPod + "/" + innerID + "\n1:name=systemd:/kubepods/besteffort/pod" + testPod + "/" + innerID,
			Owner{Kind: KindKubernetes, Pod: testPod, ID: innerID}},
		{"kubernetes in docker (kind) is the pod",
			"0::/system.slice/docker-" + dockerID + ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + testPodU + ".slice/cri-containerd-" + innerID + ".scope",
			Owner{Kind: KindKubernetes, Pod: testPod, ID: innerID, Runtime: "containerd"}},
		{"a pod's own cgroup, no container",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + testPodU + ".slice",
			Owner{Kind: KindKubernetes, Pod: testPod}},
		{"podman, rootful, payload in /container",
			"0::/machine.slice/libpod-" + dockerID + ".scope/container",
			Owner{Kind: KindPodman, ID: dockerID}},
		{"podman, rootless",
			"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + dockerID + ".scope/container",
			Owner{Kind: KindPodman, ID: dockerID}},
		{"podman pod's infra container",
			"0::/machine.slice/machine-libpod_pod_" + innerID + ".slice/libpod-" + dockerID + ".scope/container",
			Owner{Kind: KindPodman, ID: dockerID}},
		{"podman's conmon runs in the host's namespace: its unit, not a container",
			"0::/machine.slice/libpod-conmon-" + dockerID + ".scope",
			Owner{Kind: KindOther}},
		{"systemd-nspawn, escaped machine name",
			`0::/machine.slice/machine-debian\x2d12.scope/payload`,
			Owner{Kind: KindNspawn, Name: "debian-12"}},
		{"lxc, cgroup v2",
			"0::/lxc.payload.web1/system.slice/nginx.service",
			Owner{Kind: KindLXC, Name: "web1"}},
		{"lxc, cgroup v1",
			"4:memory:/lxc/web1\n1:name=systemd:/lxc/web1",
			Owner{Kind: KindLXC, Name: "web1"}},
		{"a service",
			"0::/system.slice/nginx.service",
			Owner{Kind: KindUnit, Name: "nginx.service"}},
		{"a templated service, escaped",
			`0::/system.slice/system-openvpn\x2dclient.slice/openvpn-client@vpn.service`,
			Owner{Kind: KindUnit, Name: "openvpn-client@vpn.service"}},
		{"a user's service",
			"0::/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service",
			Owner{Kind: KindUnit, Name: "syncthing.service"}},
		{"a login session is nothing recognisable",
			"0::/user.slice/user-1000.slice/session-3.scope",
			Owner{Kind: KindOther}},
		{"PID 1", "0::/init.scope", Owner{Kind: KindOther}},
		{"a short hex name after docker/ is no container ID",
			"0::/docker/abc123",
			Owner{Kind: KindOther}},
		{"an empty file", "", Owner{Kind: KindOther}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := OwnerOf(tt.cgroup + "\n"); got != tt.want {
				t.Errorf("OwnerOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOwnerString(t *testing.T) {
	for _, tt := range []struct {
		o    Owner
		want string
	}{
		{Owner{Kind: KindDocker, ID: dockerID}, "Docker container 4f3c1c7bd5a0"},
		{Owner{Kind: KindKubernetes, Pod: testPod, Runtime: "cri-o"}, "Kubernetes pod " + testPod + " (cri-o)"},
		{Owner{Kind: KindNspawn, Name: "debian-12"}, "systemd-nspawn machine debian-12"},
		{Owner{Kind: KindOther}, "no container or unit recognised"},
	} {
		if got := tt.o.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.o, got, tt.want)
		}
	}
}
