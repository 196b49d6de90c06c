// Package podpolicy checks the Kubernetes objects of a Spark job run against the operator's
// jobs.PodPolicy for its virtual cluster, before anything is created: CheckPod takes a pod
// spec (the driver pod, the executor pod template), CheckConf takes the Spark configuration
// the driver will read. Both return every refused field as a Violation, never just the
// first, so one answer tells the user all there is to fix. The package is pure: no I/O, and
// it imports only the standard library, k8s.io/api/core/v1 and internal/jobs.
//
// # What is checked
//
// The zero PodPolicy refuses everything below; each switch of the policy allows one group.
//
//   - Privilege (AllowPrivileged): securityContext.privileged: true and
//     securityContext.allowPrivilegeEscalation: true on any init, regular or ephemeral
//     container, and Windows HostProcess containers (windowsOptions.hostProcess: true, pod or
//     container level), which are Windows' privileged containers. An unset
//     allowPrivilegeEscalation is not a violation, although Kubernetes then allows escalation
//     for non-privileged containers: stock Spark pods never set it, so requiring it would
//     refuse every job that does not bring a pod template.
//   - Host namespaces (AllowHostNamespaces): spec.hostNetwork, spec.hostPID, spec.hostIPC,
//     and every container port with a non-zero hostPort, which exposes the node's network.
//   - hostPath volumes (AllowedHostPaths): the path is cleaned with path.Clean and allowed
//     only if it equals an allowed entry or lies below one on a segment boundary, so
//     "/pv-disks/local" allows "/pv-disks/local/x" but not "/pv-disks/localx", and
//     "/pv-disks/local/../../etc" is "/etc". A relative or empty path is refused; the entry
//     "/" allows every absolute path. The same rule applies to the Spark settings
//     spark.kubernetes.{driver,executor}.volumes.hostPath.<name>.options.path (CheckConf):
//     the driver creates executor pods itself from them, so they appear in no object
//     sparkplane builds.
//   - Added capabilities (AllowedCapabilities): every securityContext.capabilities.add entry
//     must be allowed. Names are compared case-insensitively with an optional "CAP_" prefix
//     ignored on both sides, as container runtimes read them. "ALL" in the policy allows any
//     capability; adding "ALL" needs "ALL" in the policy. Dropped capabilities are not
//     looked at.
//   - Root (AllowRoot): runAsUser 0 at pod level or container level. A container's own
//     non-zero runAsUser overrides the pod's 0, so the pod-level field is reported only if
//     some container inherits it, or if the spec has no regular container (an executor
//     template whose container Spark adds inherits the pod's security context).
//
// Fields are reported in document order: pod-level fields first, then init containers,
// containers and ephemeral containers (each container's ports before its security
// context), then volumes.
//
// # What is not checked
//
// The policy covers what the pod spec says, not what the node will do. Out of scope:
//
//   - The user an image runs as. An unset runAsUser leaves it to the image's USER, which may
//     be root; this package cannot see images. runAsNonRoot, runAsGroup 0,
//     supplementalGroups, fsGroup and Windows runAsUserName are not looked at either.
//   - seccomp and AppArmor profiles (Unconfined included), SELinux options, procMount,
//     sysctls, user namespaces (hostUsers), runtimeClassName and readOnlyRootFilesystem.
//   - Volume types other than hostPath (a PersistentVolume or CSI driver may still reach
//     the node), service accounts and their tokens, node selection and tolerations.
//   - Pods the driver's own code creates: application code calling the Kubernetes API with
//     the driver's service account can build pods this package never sees (Spark's executor
//     feature steps, the other way, are refused by sparkplane at StartJobRun). A hard guarantee for those needs an admission policy in the
//     cluster (Pod Security Admission or a ValidatingAdmissionPolicy); this package gives
//     the user an early, precise refusal for everything sparkplane builds or passes on.
package podpolicy
