package podpolicy

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/sparkplane/sparkplane/internal/jobs"
	corev1 "k8s.io/api/core/v1"
)

// Violation is one refused field.
type Violation struct {
	// Field is a Kubernetes-style field path such as
	// "spec.containers[0].securityContext.privileged" or "spec.volumes[2].hostPath.path";
	// for a Spark setting it is the configuration key itself.
	Field string
	// Rule is a sentence naming the rule, the container or volume at fault, and the
	// podPolicy setting that would allow it.
	Rule string
}

// Error returns Field and Rule, so a Violation can be reported as an error.
func (v Violation) Error() string { return v.Field + ": " + v.Rule }

// CheckPod returns every field of spec that p refuses, in document order: pod-level fields,
// then init containers, containers and ephemeral containers, then volumes. A nil spec has
// no violations.
func CheckPod(p jobs.PodPolicy, spec *corev1.PodSpec) []Violation {
	if spec == nil {
		return nil
	}
	c := checker{p: p}
	c.podLevel(spec)
	for i := range spec.InitContainers {
		ctr := &spec.InitContainers[i]
		c.container(fmt.Sprintf("spec.initContainers[%d]", i), "init container", ctr.Name, ctr.Ports, ctr.SecurityContext)
	}
	for i := range spec.Containers {
		ctr := &spec.Containers[i]
		c.container(fmt.Sprintf("spec.containers[%d]", i), "container", ctr.Name, ctr.Ports, ctr.SecurityContext)
	}
	for i := range spec.EphemeralContainers {
		ctr := &spec.EphemeralContainers[i]
		c.container(fmt.Sprintf("spec.ephemeralContainers[%d]", i), "ephemeral container", ctr.Name, ctr.Ports, ctr.SecurityContext)
	}
	for i, v := range spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		if why := c.hostPathRefused(v.HostPath.Path); why != "" {
			c.add(fmt.Sprintf("spec.volumes[%d].hostPath.path", i), fmt.Sprintf("volume %q mounts host path %s", v.Name, why))
		}
	}
	return c.out
}

// Spark's hostPath volume settings (KubernetesVolumeUtils.parseVolumesWithPrefix): the
// volume name is one dot-free segment, and keys of any other shape are ignored by Spark.
const (
	driverHostPathPrefix   = "spark.kubernetes.driver.volumes.hostPath."
	executorHostPathPrefix = "spark.kubernetes.executor.volumes.hostPath."
	hostPathSuffix         = ".options.path"
)

// CheckConf returns every Spark setting in conf that mounts a host path p refuses, sorted
// by key: spark.kubernetes.driver.volumes.hostPath.<name>.options.path and
// spark.kubernetes.executor.volumes.hostPath.<name>.options.path. The driver creates its
// executors' pods from the executor keys itself, so no object sparkplane builds shows those
// volumes. The driver keys become volumes of the driver pod too, where CheckPod reports
// them again under their spec.volumes field.
func CheckConf(p jobs.PodPolicy, conf map[string]string) []Violation {
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c := checker{p: p}
	for _, k := range keys {
		var pods string
		if name, ok := hostPathVolumeName(k, driverHostPathPrefix); ok {
			pods = fmt.Sprintf("the driver pod's volume %q", name)
		} else if name, ok := hostPathVolumeName(k, executorHostPathPrefix); ok {
			pods = fmt.Sprintf("the executor pods' volume %q", name)
		} else {
			continue
		}
		if why := c.hostPathRefused(conf[k]); why != "" {
			c.add(k, pods+" would mount host path "+why)
		}
	}
	return c.out
}

// hostPathVolumeName returns the <name> of prefix+<name>+".options.path", if key has that
// shape.
func hostPathVolumeName(key, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, hostPathSuffix)
	if !ok || strings.Contains(name, ".") {
		return "", false
	}
	return name, true
}

// checker collects the violations of one spec or configuration against one policy.
type checker struct {
	p   jobs.PodPolicy
	out []Violation
}

func (c *checker) add(field, rule string) {
	c.out = append(c.out, Violation{Field: field, Rule: rule})
}

// Rule endings, one per policy setting, so every refusal says how to allow it.
const (
	refusedPrivileged = "which the virtual cluster's podPolicy refuses (set podPolicy.allowPrivileged to allow it)"
	refusedHost       = "which the virtual cluster's podPolicy refuses (set podPolicy.allowHostNamespaces to allow it)"
	refusedRoot       = "which the virtual cluster's podPolicy refuses (set podPolicy.allowRoot to allow it, or set a non-zero runAsUser)"
)

func (c *checker) podLevel(spec *corev1.PodSpec) {
	if !c.p.AllowHostNamespaces {
		if spec.HostNetwork {
			c.add("spec.hostNetwork", "the pod uses the node's network namespace, "+refusedHost)
		}
		if spec.HostPID {
			c.add("spec.hostPID", "the pod uses the node's process namespace, "+refusedHost)
		}
		if spec.HostIPC {
			c.add("spec.hostIPC", "the pod uses the node's IPC namespace, "+refusedHost)
		}
	}
	sc := spec.SecurityContext
	if sc == nil {
		return
	}
	if !c.p.AllowPrivileged && sc.WindowsOptions != nil && isTrue(sc.WindowsOptions.HostProcess) {
		c.add("spec.securityContext.windowsOptions.hostProcess", "the pod runs Windows HostProcess containers, "+refusedPrivileged)
	}
	if !c.p.AllowRoot && isZero(sc.RunAsUser) {
		if heirs := rootHeirs(spec); heirs != "" {
			c.add("spec.securityContext.runAsUser", "the pod runs "+heirs+" as uid 0 (root), "+refusedRoot)
		}
	}
}

// rootHeirs names the containers of spec that inherit the pod's runAsUser, or returns ""
// when every container sets its own. A spec without regular containers (an executor
// template) gets the container Spark adds, which inherits it too.
func rootHeirs(spec *corev1.PodSpec) string {
	var names []string
	inherits := func(kind, name string, sc *corev1.SecurityContext) {
		if sc == nil || sc.RunAsUser == nil {
			names = append(names, fmt.Sprintf("%s %q", kind, name))
		}
	}
	for _, ctr := range spec.InitContainers {
		inherits("init container", ctr.Name, ctr.SecurityContext)
	}
	for _, ctr := range spec.Containers {
		inherits("container", ctr.Name, ctr.SecurityContext)
	}
	for _, ctr := range spec.EphemeralContainers {
		inherits("ephemeral container", ctr.Name, ctr.SecurityContext)
	}
	if len(spec.Containers) == 0 {
		names = append(names, "the container Spark adds to this template")
	}
	return strings.Join(names, ", ")
}

// container checks one container's ports and security context; field is its path
// ("spec.containers[0]"), kind and name name it in the rules.
func (c *checker) container(field, kind, name string, ports []corev1.ContainerPort, sc *corev1.SecurityContext) {
	who := fmt.Sprintf("%s %q", kind, name)
	if !c.p.AllowHostNamespaces {
		for i, port := range ports {
			if port.HostPort != 0 {
				c.add(fmt.Sprintf("%s.ports[%d].hostPort", field, i),
					fmt.Sprintf("%s binds port %d of the node's network, %s", who, port.HostPort, refusedHost))
			}
		}
	}
	if sc == nil {
		return
	}
	field += ".securityContext"
	if sc.Capabilities != nil {
		for i, capName := range sc.Capabilities.Add {
			if why := c.capabilityRefused(string(capName)); why != "" {
				c.add(fmt.Sprintf("%s.capabilities.add[%d]", field, i), fmt.Sprintf("%s adds %s", who, why))
			}
		}
	}
	if !c.p.AllowPrivileged {
		if isTrue(sc.Privileged) {
			c.add(field+".privileged", who+" is privileged, "+refusedPrivileged)
		}
		if sc.WindowsOptions != nil && isTrue(sc.WindowsOptions.HostProcess) {
			c.add(field+".windowsOptions.hostProcess", who+" is a Windows HostProcess container, "+refusedPrivileged)
		}
	}
	if !c.p.AllowRoot && isZero(sc.RunAsUser) {
		c.add(field+".runAsUser", who+" runs as uid 0 (root), "+refusedRoot)
	}
	if !c.p.AllowPrivileged && isTrue(sc.AllowPrivilegeEscalation) {
		c.add(field+".allowPrivilegeEscalation", who+" allows privilege escalation, "+refusedPrivileged)
	}
}

// capabilityRefused returns "" if the policy allows adding capName, else the end of a rule
// saying why not.
func (c *checker) capabilityRefused(capName string) string {
	want := normalCapability(capName)
	for _, a := range c.p.AllowedCapabilities {
		if a := normalCapability(a); a == "ALL" || a == want {
			return ""
		}
	}
	if want == "ALL" {
		return fmt.Sprintf("every capability (%q), which the virtual cluster's podPolicy refuses "+
			"(add \"ALL\" to podPolicy.allowedCapabilities to allow it)", capName)
	}
	return fmt.Sprintf("capability %q, which the virtual cluster's podPolicy refuses "+
		"(add %q to podPolicy.allowedCapabilities to allow it)", capName, want)
}

// normalCapability is the form capability names are compared in: upper case, without
// "CAP_", as container runtimes accept either.
func normalCapability(s string) string {
	s = strings.ToUpper(s)
	return strings.TrimPrefix(s, "CAP_")
}

// hostPathRefused returns "" if the policy allows a hostPath volume at p, else the rest of
// a rule that starts with the mounting volume: the path and why it is refused.
func (c *checker) hostPathRefused(p string) string {
	if !strings.HasPrefix(p, "/") {
		return fmt.Sprintf("%q, which is not an absolute path; the virtual cluster's podPolicy refuses "+
			"relative host paths (use an absolute path)", p)
	}
	clean := path.Clean(p)
	for _, a := range c.p.AllowedHostPaths {
		if !strings.HasPrefix(a, "/") {
			continue // jobs.PodPolicy.Validate refuses these; they allow nothing here.
		}
		a = path.Clean(a)
		if a == "/" || clean == a || strings.HasPrefix(clean, a+"/") {
			return ""
		}
	}
	shown := fmt.Sprintf("%q", p)
	if clean != p {
		shown = fmt.Sprintf("%q (%q once cleaned)", p, clean)
	}
	return shown + ", which is not in or below any of the virtual cluster's podPolicy.allowedHostPaths " +
		"(add it or a parent directory there to allow it)"
}

func isTrue(b *bool) bool { return b != nil && *b }

func isZero(n *int64) bool { return n != nil && *n == 0 }
