package spark

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// volumeSpec is one spark.kubernetes.driver.volumes.<type>.<name>.* group
// (KubernetesVolumeUtils.parseVolumesWithPrefix).
type volumeSpec struct {
	typ, name   string
	mountPath   string
	readOnly    bool
	subPath     string
	subPathExpr string
	opts        map[string]string // options.*
	labels      map[string]string // label.* (PVC, Spark 4.0+)
	annotations map[string]string // annotation.* (PVC, Spark 4.0+)
}

const driverVolumesPrefix = "spark.kubernetes.driver.volumes."

// parseVolumes reads the driver volume groups, sorted by volume name (Spark's order comes
// from an unordered map).
func (b *builder) parseVolumes() ([]*volumeSpec, error) {
	groups := map[[2]string]*volumeSpec{}
	props := b.c.withPrefix(driverVolumesPrefix)
	for _, k := range sortedKeys(props) {
		parts := strings.SplitN(k, ".", 3)
		if len(parts) < 3 {
			continue
		}
		id := [2]string{parts[0], parts[1]}
		vs := groups[id]
		if vs == nil {
			vs = &volumeSpec{typ: parts[0], name: parts[1], opts: map[string]string{}}
			groups[id] = vs
		}
		val, key := props[k], driverVolumesPrefix+k
		switch rest := parts[2]; {
		case rest == "mount.path":
			vs.mountPath = val
		case rest == "mount.readOnly":
			ro, err := strconv.ParseBool(val)
			if err != nil {
				return nil, &ConfError{Key: key, Rule: fmt.Sprintf("%q must be true or false", val)}
			}
			vs.readOnly = ro
		case rest == "mount.subPath":
			vs.subPath = val
		case rest == "mount.subPathExpr" && b.v.atLeast(4, 0, 0):
			vs.subPathExpr = val
		case strings.HasPrefix(rest, "options."):
			vs.opts[strings.TrimPrefix(rest, "options.")] = val
		case strings.HasPrefix(rest, "label.") && b.v.atLeast(4, 0, 0):
			vs.labels = mergeStrings(vs.labels, map[string]string{strings.TrimPrefix(rest, "label."): val})
		case strings.HasPrefix(rest, "annotation.") && b.v.atLeast(4, 0, 0):
			vs.annotations = mergeStrings(vs.annotations, map[string]string{strings.TrimPrefix(rest, "annotation."): val})
		}
	}
	out := make([]*volumeSpec, 0, len(groups))
	for _, vs := range groups {
		prefix := driverVolumesPrefix + vs.typ + "." + vs.name + "."
		if vs.mountPath == "" {
			return nil, &ConfError{Key: prefix + "mount.path", Rule: "must be set for every driver volume"}
		}
		if vs.subPath != "" && vs.subPathExpr != "" {
			return nil, &ConfError{Key: prefix + "mount.subPathExpr", Rule: "cannot be set together with mount.subPath"}
		}
		out = append(out, vs)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].typ < out[j].typ
	})
	return out, nil
}

// mountVolumesStep is MountVolumesFeatureStep for the driver: hostPath, persistentVolumeClaim,
// emptyDir and nfs volumes, and the on-demand PVCs.
func (b *builder) mountVolumesStep() error {
	specs, err := b.parseVolumes()
	if err != nil {
		return err
	}
	for i, vs := range specs {
		src, err := b.volumeSource(i, vs)
		if err != nil {
			return err
		}
		b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: vs.name, VolumeSource: src})
		b.ctr.VolumeMounts = append(b.ctr.VolumeMounts, corev1.VolumeMount{Name: vs.name, MountPath: vs.mountPath,
			ReadOnly: vs.readOnly, SubPath: vs.subPath, SubPathExpr: vs.subPathExpr})
	}
	return nil
}

func (b *builder) volumeSource(i int, vs *volumeSpec) (corev1.VolumeSource, error) {
	key := func(opt string) string { return driverVolumesPrefix + vs.typ + "." + vs.name + ".options." + opt }
	need := func(opt string) (string, error) {
		if v := vs.opts[opt]; v != "" {
			return v, nil
		}
		return "", &ConfError{Key: key(opt), Rule: "must be set for a " + vs.typ + " volume"}
	}
	switch vs.typ {
	case "hostPath":
		p, err := need("path")
		if err != nil {
			return corev1.VolumeSource{}, err
		}
		hp := &corev1.HostPathVolumeSource{Path: p}
		if t := vs.opts["type"]; t != "" && b.v.atLeast(4, 0, 0) {
			hp.Type = ptr(corev1.HostPathType(t))
		}
		return corev1.VolumeSource{HostPath: hp}, nil
	case "emptyDir":
		ed := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(vs.opts["medium"])}
		if s := vs.opts["sizeLimit"]; s != "" {
			q, err := b.volumeSize(key("sizeLimit"), s)
			if err != nil {
				return corev1.VolumeSource{}, err
			}
			ed.SizeLimit = &q
		}
		return corev1.VolumeSource{EmptyDir: ed}, nil
	case "nfs":
		p, err := need("path")
		if err != nil {
			return corev1.VolumeSource{}, err
		}
		s, err := need("server")
		if err != nil {
			return corev1.VolumeSource{}, err
		}
		return corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Path: p, Server: s, ReadOnly: vs.readOnly}}, nil
	case "persistentVolumeClaim":
		claim, err := need("claimName")
		if err != nil {
			return corev1.VolumeSource{}, err
		}
		claim = strings.ReplaceAll(claim, "OnDemand", fmt.Sprintf("%s-driver-pvc-%d", b.prefix, i))
		if err := b.onDemandClaim(claim, vs, key); err != nil {
			return corev1.VolumeSource{}, err
		}
		return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: vs.readOnly}}, nil
	}
	return corev1.VolumeSource{}, &ConfError{Key: driverVolumesPrefix + vs.typ + "." + vs.name,
		Rule: fmt.Sprintf("volume type %q is not supported (use hostPath, persistentVolumeClaim, emptyDir or nfs)", vs.typ)}
}

// volumeSize parses a size option; Spark 4.0 rejects unit-less sizes below 1 KiB as a
// probable missing unit.
func (b *builder) volumeSize(key, s string) (resource.Quantity, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n < 1024 && b.v.atLeast(4, 0, 0) {
		return resource.Quantity{}, &ConfError{Key: key, Rule: fmt.Sprintf("volume size %q is smaller than 1KiB; missing unit?", s)}
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}, &ConfError{Key: key, Rule: fmt.Sprintf("%q is not a Kubernetes quantity such as 512Mi or 10Gi", s)}
	}
	return q, nil
}

// onDemandClaim creates the PVC Spark creates when storageClass and sizeLimit are both set.
func (b *builder) onDemandClaim(name string, vs *volumeSpec, key func(string) string) error {
	sc, size := vs.opts["storageClass"], vs.opts["sizeLimit"]
	if sc == "" || size == "" {
		return nil
	}
	q, err := b.volumeSize(key("sizeLimit"), size)
	if err != nil {
		return err
	}
	mode := corev1.ReadWriteOncePod
	legacy, err := b.c.bool("spark.kubernetes.legacy.useReadWriteOnceAccessMode", false)
	if err != nil {
		return err
	}
	if legacy || !b.readWriteOncePodDefault() {
		mode = corev1.ReadWriteOnce
	}
	pvc := &corev1.PersistentVolumeClaim{}
	pvc.APIVersion, pvc.Kind = "v1", "PersistentVolumeClaim"
	pvc.Name = name
	pvc.OwnerReferences = b.ownerRefs()
	// Spark 3.2 labelled on-demand claims with the app id; 3.1 created them without labels.
	if b.v.atLeast(3, 2, 0) {
		pvc.Labels = mergeStrings(vs.labels, map[string]string{wellknown.LabelSparkAppSelector: b.id.appID})
	}
	pvc.Annotations = vs.annotations
	pvc.Spec.StorageClassName = ptr(sc)
	pvc.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{mode}
	pvc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: q}
	b.objs.PVCs = append(b.objs.PVCs, pvc)
	return nil
}

// readWriteOncePodDefault: SPARK-46786 switched on-demand PVCs to ReadWriteOncePod in 3.4.3,
// 3.5.1 and 4.0.
func (b *builder) readWriteOncePodDefault() bool {
	v := b.v
	switch {
	case v.major >= 4:
		return true
	case v.minor == 4:
		return v.patch >= 3
	case v.minor == 5:
		return v.patch >= 1
	case v.minor > 5:
		return true
	}
	return false
}
