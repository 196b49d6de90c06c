package podpolicy

import (
	"slices"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
	corev1 "k8s.io/api/core/v1"
)

func ptr[T any](v T) *T { return &v }

// podTest is one CheckPod case: the fields it must report, exactly and in order.
type podTest struct {
	name   string
	policy jobs.PodPolicy
	spec   *corev1.PodSpec
	want   []string
}

func runPodTests(t *testing.T, tests []podTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckPod(tt.policy, tt.spec)
			if !slices.Equal(fields(got), tt.want) {
				t.Errorf("CheckPod fields = %q, want %q\n%v", fields(got), tt.want, got)
			}
			for _, v := range got {
				if v.Rule == "" || !strings.Contains(v.Rule, "podPolicy") {
					t.Errorf("%s: rule %q does not name the podPolicy", v.Field, v.Rule)
				}
			}
		})
	}
}

func fields(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Field)
	}
	return out
}

// withSC returns a spec with one container "spark-kubernetes-driver" carrying sc.
func withSC(sc *corev1.SecurityContext) *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-driver", SecurityContext: sc}}}
}

func withHostPath(paths ...string) *corev1.PodSpec {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}
	for _, p := range paths {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p}}})
	}
	return spec
}

func withCaps(caps ...corev1.Capability) *corev1.PodSpec {
	return withSC(&corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: caps}})
}

func TestCheckPodNilAndClean(t *testing.T) {
	if got := CheckPod(jobs.PodPolicy{}, nil); got != nil {
		t.Errorf("CheckPod(nil) = %v, want nil", got)
	}
	// A pod as stock spark-submit builds it: no security context, no host access.
	stock := &corev1.PodSpec{
		Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Ports: []corev1.ContainerPort{{Name: "driver-rpc-port", ContainerPort: 7078}}}},
		Volumes:    []corev1.Volume{{Name: "spark-local-dir-1", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
	if got := CheckPod(jobs.PodPolicy{}, stock); got != nil {
		t.Errorf("CheckPod(stock pod) = %v, want nil", got)
	}
}

func TestViolationError(t *testing.T) {
	v := Violation{Field: "spec.hostPID", Rule: "refused"}
	if got, want := v.Error(), "spec.hostPID: refused"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestPrivileged(t *testing.T) {
	allow := jobs.PodPolicy{AllowPrivileged: true}
	runPodTests(t, []podTest{
		{"privileged refused", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{Privileged: ptr(true)}),
			[]string{"spec.containers[0].securityContext.privileged"}},
		{"privileged allowed", allow, withSC(&corev1.SecurityContext{Privileged: ptr(true)}), nil},
		{"privileged false", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{Privileged: ptr(false)}), nil},
		{"escalation refused", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{AllowPrivilegeEscalation: ptr(true)}),
			[]string{"spec.containers[0].securityContext.allowPrivilegeEscalation"}},
		{"escalation allowed", allow, withSC(&corev1.SecurityContext{AllowPrivilegeEscalation: ptr(true)}), nil},
		{"escalation unset", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{}), nil},
		{"escalation false", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false)}), nil},
		{"both, in field order", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{Privileged: ptr(true), AllowPrivilegeEscalation: ptr(true)}),
			[]string{"spec.containers[0].securityContext.privileged", "spec.containers[0].securityContext.allowPrivilegeEscalation"}},
		{"init container", jobs.PodPolicy{}, &corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "ok"}, {Name: "setup", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}},
			Containers:     []corev1.Container{{Name: "c"}},
		}, []string{"spec.initContainers[1].securityContext.privileged"}},
		{"ephemeral container", jobs.PodPolicy{}, &corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c"}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true), AllowPrivilegeEscalation: ptr(true)}}}},
		}, []string{"spec.ephemeralContainers[0].securityContext.privileged", "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation"}},
		{"windows hostProcess refused", jobs.PodPolicy{}, &corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}},
			Containers:      []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}}}},
		}, []string{"spec.securityContext.windowsOptions.hostProcess", "spec.containers[0].securityContext.windowsOptions.hostProcess"}},
		{"windows hostProcess allowed", allow, &corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}},
			Containers:      []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}}}},
		}, nil},
	})
}

func TestHostNamespaces(t *testing.T) {
	all := func() *corev1.PodSpec {
		return &corev1.PodSpec{
			HostNetwork: true, HostPID: true, HostIPC: true,
			InitContainers: []corev1.Container{{Name: "i", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}}},
			Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
				{Name: "rpc", ContainerPort: 7078},
				{Name: "ui", ContainerPort: 4040, HostPort: 4040},
			}}},
		}
	}
	runPodTests(t, []podTest{
		{"all refused", jobs.PodPolicy{}, all(), []string{
			"spec.hostNetwork", "spec.hostPID", "spec.hostIPC",
			"spec.initContainers[0].ports[0].hostPort", "spec.containers[0].ports[1].hostPort",
		}},
		{"all allowed", jobs.PodPolicy{AllowHostNamespaces: true}, all(), nil},
		{"hostNetwork only", jobs.PodPolicy{}, &corev1.PodSpec{HostNetwork: true}, []string{"spec.hostNetwork"}},
		{"hostIPC only", jobs.PodPolicy{}, &corev1.PodSpec{HostIPC: true}, []string{"spec.hostIPC"}},
		{"container port without hostPort", jobs.PodPolicy{}, &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 7078}}}}}, nil},
		{"other allowances do not help", jobs.PodPolicy{AllowPrivileged: true, AllowRoot: true, AllowedCapabilities: []string{"ALL"}, AllowedHostPaths: []string{"/"}},
			&corev1.PodSpec{HostPID: true}, []string{"spec.hostPID"}},
	})
}

func TestHostPath(t *testing.T) {
	local := jobs.PodPolicy{AllowedHostPaths: []string{"/pv-disks/local", "/data"}}
	runPodTests(t, []podTest{
		{"refused by zero policy", jobs.PodPolicy{}, withHostPath("/pv-disks/local"), []string{"spec.volumes[0].hostPath.path"}},
		{"equal", local, withHostPath("/pv-disks/local"), nil},
		{"below", local, withHostPath("/pv-disks/local/x", "/data/a/b"), nil},
		{"trailing slash", local, withHostPath("/pv-disks/local/"), nil},
		{"not on a segment boundary", local, withHostPath("/pv-disks/localx"), []string{"spec.volumes[0].hostPath.path"}},
		{"parent of allowed", local, withHostPath("/pv-disks"), []string{"spec.volumes[0].hostPath.path"}},
		{"cleaned out of allowed", local, withHostPath("/pv-disks/local/../../etc"), []string{"spec.volumes[0].hostPath.path"}},
		{"cleaned into allowed", local, withHostPath("/pv-disks//local/./x/../y"), nil},
		{"relative", local, withHostPath("pv-disks/local"), []string{"spec.volumes[0].hostPath.path"}},
		{"relative refused even with /", jobs.PodPolicy{AllowedHostPaths: []string{"/"}}, withHostPath("x"), []string{"spec.volumes[0].hostPath.path"}},
		{"empty", local, withHostPath(""), []string{"spec.volumes[0].hostPath.path"}},
		{"root allows all", jobs.PodPolicy{AllowedHostPaths: []string{"/"}}, withHostPath("/", "/etc", "/var/run/docker.sock"), nil},
		{"only refused ones, by index", local, withHostPath("/data/x", "/etc", "/pv-disks/local/y", "/"),
			[]string{"spec.volumes[1].hostPath.path", "spec.volumes[3].hostPath.path"}},
		{"unclean allowed entry still matches on segments", jobs.PodPolicy{AllowedHostPaths: []string{"/data/"}},
			withHostPath("/data/x", "/datax"), []string{"spec.volumes[1].hostPath.path"}},
		{"relative allowed entry allows nothing", jobs.PodPolicy{AllowedHostPaths: []string{"data"}},
			withHostPath("/data"), []string{"spec.volumes[0].hostPath.path"}},
		{"other volume types ignored", jobs.PodPolicy{}, &corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "n", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "/"}}},
		}}, nil},
	})
}

func TestCapabilities(t *testing.T) {
	net := jobs.PodPolicy{AllowedCapabilities: []string{"NET_BIND_SERVICE", "CAP_SYS_PTRACE"}}
	all := jobs.PodPolicy{AllowedCapabilities: []string{"ALL"}}
	runPodTests(t, []podTest{
		{"refused by zero policy", jobs.PodPolicy{}, withCaps("SYS_ADMIN"), []string{"spec.containers[0].securityContext.capabilities.add[0]"}},
		{"allowed", net, withCaps("NET_BIND_SERVICE"), nil},
		{"CAP_ prefix on the container", net, withCaps("CAP_NET_BIND_SERVICE"), nil},
		{"CAP_ prefix in the policy", net, withCaps("SYS_PTRACE", "CAP_SYS_PTRACE"), nil},
		{"case-insensitive", net, withCaps("net_bind_service", "cap_sys_ptrace", "Cap_Net_Bind_Service"), nil},
		{"one refused among allowed", net, withCaps("NET_BIND_SERVICE", "SYS_ADMIN", "CAP_SYS_PTRACE", "NET_RAW"),
			[]string{"spec.containers[0].securityContext.capabilities.add[1]", "spec.containers[0].securityContext.capabilities.add[3]"}},
		{"ALL allows any", all, withCaps("SYS_ADMIN", "CAP_NET_RAW"), nil},
		{"ALL allows ALL", all, withCaps("ALL"), nil},
		{"lower-case all in the policy", jobs.PodPolicy{AllowedCapabilities: []string{"all"}}, withCaps("SYS_ADMIN"), nil},
		{"adding ALL needs ALL", net, withCaps("ALL"), []string{"spec.containers[0].securityContext.capabilities.add[0]"}},
		{"adding CAP_ALL needs ALL", net, withCaps("cap_all"), []string{"spec.containers[0].securityContext.capabilities.add[0]"}},
		{"drop is ignored", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}), nil},
		{"init and ephemeral containers", jobs.PodPolicy{}, &corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "i", SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CHOWN"}}}}},
			Containers:     []corev1.Container{{Name: "c"}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "e", SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}}}}},
		}, []string{"spec.initContainers[0].securityContext.capabilities.add[0]", "spec.ephemeralContainers[0].securityContext.capabilities.add[0]"}},
	})
}

func TestRoot(t *testing.T) {
	podRoot := func(ctrs ...corev1.Container) *corev1.PodSpec {
		return &corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))}, Containers: ctrs}
	}
	user := func(name string, uid *int64) corev1.Container {
		return corev1.Container{Name: name, SecurityContext: &corev1.SecurityContext{RunAsUser: uid}}
	}
	runPodTests(t, []podTest{
		{"pod-level 0 inherited", jobs.PodPolicy{}, podRoot(corev1.Container{Name: "c"}), []string{"spec.securityContext.runAsUser"}},
		{"pod-level 0 allowed", jobs.PodPolicy{AllowRoot: true}, podRoot(corev1.Container{Name: "c"}), nil},
		{"pod-level non-zero", jobs.PodPolicy{}, &corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(185))}, Containers: []corev1.Container{{Name: "c"}}}, nil},
		{"unset everywhere", jobs.PodPolicy{}, &corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{}, Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{}}}}, nil},
		{"container overrides pod 0", jobs.PodPolicy{}, podRoot(user("c", ptr(int64(185)))), nil},
		{"one container inherits pod 0", jobs.PodPolicy{}, podRoot(user("a", ptr(int64(185))), user("b", nil)), []string{"spec.securityContext.runAsUser"}},
		{"init container inherits pod 0", jobs.PodPolicy{}, &corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))},
			InitContainers:  []corev1.Container{{Name: "i"}},
			Containers:      []corev1.Container{user("c", ptr(int64(185)))},
		}, []string{"spec.securityContext.runAsUser"}},
		{"ephemeral container inherits pod 0", jobs.PodPolicy{}, &corev1.PodSpec{
			SecurityContext:     &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))},
			Containers:          []corev1.Container{user("c", ptr(int64(185)))},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e"}}},
		}, []string{"spec.securityContext.runAsUser"}},
		{"template without containers inherits pod 0", jobs.PodPolicy{}, podRoot(), []string{"spec.securityContext.runAsUser"}},
		{"container 0", jobs.PodPolicy{}, withSC(&corev1.SecurityContext{RunAsUser: ptr(int64(0))}), []string{"spec.containers[0].securityContext.runAsUser"}},
		{"container 0 allowed", jobs.PodPolicy{AllowRoot: true}, withSC(&corev1.SecurityContext{RunAsUser: ptr(int64(0))}), nil},
		{"container 0 overrides pod non-zero", jobs.PodPolicy{}, &corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(185))},
			Containers:      []corev1.Container{user("c", ptr(int64(0)))},
		}, []string{"spec.containers[0].securityContext.runAsUser"}},
		{"pod 0 and container 0 reported apart", jobs.PodPolicy{}, podRoot(user("a", ptr(int64(0))), user("b", nil)),
			[]string{"spec.securityContext.runAsUser", "spec.containers[0].securityContext.runAsUser"}},
		{"pod 0, every container sets 0 itself", jobs.PodPolicy{}, podRoot(user("a", ptr(int64(0)))),
			[]string{"spec.containers[0].securityContext.runAsUser"}},
		{"init and ephemeral container 0", jobs.PodPolicy{}, &corev1.PodSpec{
			InitContainers: []corev1.Container{user("i", ptr(int64(0)))},
			Containers:     []corev1.Container{{Name: "c"}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "e", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(0))}}}},
		}, []string{"spec.initContainers[0].securityContext.runAsUser", "spec.ephemeralContainers[0].securityContext.runAsUser"}},
	})
}

// TestZeroPolicyRefusesAll checks that the zero policy refuses a pod that asks for every
// privilege, with exactly one violation per field, in document order.
func TestZeroPolicyRefusesAll(t *testing.T) {
	spec := &corev1.PodSpec{
		HostNetwork:     true,
		HostPID:         true,
		SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))},
		InitContainers:  []corev1.Container{{Name: "init"}},
		Containers: []corev1.Container{{
			Name: "spark-kubernetes-driver",
			SecurityContext: &corev1.SecurityContext{
				Privileged:   ptr(true),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}},
				RunAsUser:    ptr(int64(0)),
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}},
		},
	}
	got := CheckPod(jobs.PodPolicy{}, spec)
	want := []string{
		"spec.hostNetwork",
		"spec.hostPID",
		"spec.securityContext.runAsUser", // inherited by the init container
		"spec.containers[0].securityContext.capabilities.add[0]",
		"spec.containers[0].securityContext.privileged",
		"spec.containers[0].securityContext.runAsUser",
		"spec.volumes[1].hostPath.path",
	}
	if !slices.Equal(fields(got), want) {
		t.Fatalf("CheckPod fields = %q, want %q", fields(got), want)
	}
	// Each rule names what is at fault and the setting that would allow it.
	wantRule := []struct{ has []string }{
		{[]string{"network namespace", "podPolicy.allowHostNamespaces"}},
		{[]string{"process namespace", "podPolicy.allowHostNamespaces"}},
		{[]string{`init container "init"`, "uid 0", "podPolicy.allowRoot"}},
		{[]string{`container "spark-kubernetes-driver"`, `"SYS_ADMIN"`, "podPolicy.allowedCapabilities"}},
		{[]string{`container "spark-kubernetes-driver"`, "privileged", "podPolicy.allowPrivileged"}},
		{[]string{`container "spark-kubernetes-driver"`, "uid 0", "podPolicy.allowRoot"}},
		{[]string{`volume "root"`, `"/"`, "podPolicy.allowedHostPaths"}},
	}
	for i, v := range got {
		for _, s := range wantRule[i].has {
			if !strings.Contains(v.Rule, s) {
				t.Errorf("%s: rule %q lacks %q", v.Field, v.Rule, s)
			}
		}
		if v.Error() != v.Field+": "+v.Rule {
			t.Errorf("Error() = %q", v.Error())
		}
	}
	// The permissive policy allows the same pod.
	open := jobs.PodPolicy{AllowedHostPaths: []string{"/"}, AllowedCapabilities: []string{"ALL"}, AllowRoot: true, AllowPrivileged: true, AllowHostNamespaces: true}
	if got := CheckPod(open, spec); got != nil {
		t.Errorf("CheckPod(permissive) = %v, want nil", got)
	}
}

// TestDocumentOrder checks the order across sections: pod level, init containers,
// containers, ephemeral containers, volumes; within a container ports, then its security
// context in field order.
func TestDocumentOrder(t *testing.T) {
	sc := func() *corev1.SecurityContext {
		return &corev1.SecurityContext{
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}, Privileged: ptr(true),
			RunAsUser: ptr(int64(0)), AllowPrivilegeEscalation: ptr(true),
		}
	}
	hostPort := []corev1.ContainerPort{{ContainerPort: 1, HostPort: 1}}
	spec := &corev1.PodSpec{
		Volumes:        []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}}},
		InitContainers: []corev1.Container{{Name: "i", Ports: hostPort, SecurityContext: sc()}},
		Containers:     []corev1.Container{{Name: "c", Ports: hostPort, SecurityContext: sc()}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "e", Ports: hostPort, SecurityContext: sc()}}},
		HostIPC:         true,
		SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))},
	}
	var want []string
	want = append(want, "spec.hostIPC") // no container inherits the pod's uid 0
	for _, c := range []string{"spec.initContainers[0]", "spec.containers[0]", "spec.ephemeralContainers[0]"} {
		want = append(want,
			c+".ports[0].hostPort",
			c+".securityContext.capabilities.add[0]",
			c+".securityContext.privileged",
			c+".securityContext.runAsUser",
			c+".securityContext.allowPrivilegeEscalation")
	}
	want = append(want, "spec.volumes[0].hostPath.path")
	if got := fields(CheckPod(jobs.PodPolicy{}, spec)); !slices.Equal(got, want) {
		t.Errorf("CheckPod fields =\n%q\nwant\n%q", got, want)
	}
}

func TestRulesNameContainers(t *testing.T) {
	spec := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "setup", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}},
		Containers:     []corev1.Container{{Name: "main", Ports: []corev1.ContainerPort{{HostPort: 8080}}, SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(true)}}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debug", SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"ALL"}}}}}},
	}
	want := [][]string{
		{`init container "setup"`, "podPolicy.allowPrivileged"},
		{`container "main"`, "8080", "podPolicy.allowHostNamespaces"},
		{`container "main"`, "escalation", "podPolicy.allowPrivileged"},
		{`ephemeral container "debug"`, `"ALL"`, "podPolicy.allowedCapabilities"},
	}
	got := CheckPod(jobs.PodPolicy{}, spec)
	if len(got) != len(want) {
		t.Fatalf("CheckPod = %v, want %d violations", got, len(want))
	}
	for i, v := range got {
		for _, s := range want[i] {
			if !strings.Contains(v.Rule, s) {
				t.Errorf("%s: rule %q lacks %q", v.Field, v.Rule, s)
			}
		}
	}
}

func TestCheckConf(t *testing.T) {
	const (
		driverData = "spark.kubernetes.driver.volumes.hostPath.data.options.path"
		execData   = "spark.kubernetes.executor.volumes.hostPath.data.options.path"
		execLogs   = "spark.kubernetes.executor.volumes.hostPath.logs.options.path"
	)
	local := jobs.PodPolicy{AllowedHostPaths: []string{"/pv-disks/local"}}
	tests := []struct {
		name   string
		policy jobs.PodPolicy
		conf   map[string]string
		want   []string
	}{
		{"nil conf", jobs.PodPolicy{}, nil, nil},
		{"refused, sorted by key", jobs.PodPolicy{}, map[string]string{
			execLogs: "/var/log", execData: "/data", driverData: "/data", "spark.executor.instances": "2",
		}, []string{driverData, execData, execLogs}},
		{"allowed", local, map[string]string{driverData: "/pv-disks/local", execData: "/pv-disks/local/spark"}, nil},
		{"segment boundary", local, map[string]string{execData: "/pv-disks/localx"}, []string{execData}},
		{"cleaned", local, map[string]string{execData: "/pv-disks/local/../../etc", execLogs: "/pv-disks/local/./a/../b"}, []string{execData}},
		{"relative", jobs.PodPolicy{AllowedHostPaths: []string{"/"}}, map[string]string{execData: "data"}, []string{execData}},
		{"root allows all", jobs.PodPolicy{AllowedHostPaths: []string{"/"}}, map[string]string{execData: "/etc", driverData: "/"}, nil},
		{"keys Spark ignores or does not mount from", jobs.PodPolicy{}, map[string]string{
			"spark.kubernetes.executor.volumes.hostPath.data.mount.path":       "/data",
			"spark.kubernetes.executor.volumes.hostPath.data.options.type":     "Directory",
			"spark.kubernetes.executor.volumes.hostPath.a.b.options.path":      "/etc",
			"spark.kubernetes.executor.volumes.hostpath.data.options.path":     "/etc",
			"spark.kubernetes.executor.volumes.nfs.data.options.path":          "/etc",
			"spark.kubernetes.executor.volumes.emptyDir.data.options.path":     "/etc",
			"spark.kubernetes.executor.volumes.hostPath.data.options.path.x":   "/etc",
			"spark.kubernetes.authenticate.volumes.hostPath.data.options.path": "/etc",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckConf(tt.policy, tt.conf)
			if !slices.Equal(fields(got), tt.want) {
				t.Errorf("CheckConf fields = %q, want %q\n%v", fields(got), tt.want, got)
			}
			for _, v := range got {
				if !strings.Contains(v.Rule, "podPolicy") || !strings.Contains(v.Rule, `volume "data"`) && !strings.Contains(v.Rule, `volume "logs"`) {
					t.Errorf("%s: rule %q names neither the volume nor the policy", v.Field, v.Rule)
				}
			}
		})
	}
	got := CheckConf(jobs.PodPolicy{}, map[string]string{driverData: "/data", execData: "/pv/../etc"})
	for i, s := range [][]string{{"driver pod", `"/data"`, "podPolicy.allowedHostPaths"}, {"executor pods", `"/etc" once cleaned`}} {
		for _, want := range s {
			if !strings.Contains(got[i].Rule, want) {
				t.Errorf("%s: rule %q lacks %q", got[i].Field, got[i].Rule, want)
			}
		}
	}
}
