package spark

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func (b *builder) ownerRefs() []metav1.OwnerReference {
	return []metav1.OwnerReference{b.owner}
}

// podTemplateConfigMapStep is PodTemplateConfigMapStep: it ships the executor pod template to
// the driver in a ConfigMap and points spark.kubernetes.executor.podTemplateFile at it.
func (b *builder) podTemplateConfigMapStep() error {
	text := b.job.ExecutorPodTemplateText
	if text == "" && b.job.ExecutorPodTemplate != nil {
		out, err := yaml.Marshal(b.job.ExecutorPodTemplate)
		if err != nil {
			return &JobError{Field: "ExecutorPodTemplate", Rule: fmt.Sprintf("cannot be serialized: %v", err)}
		}
		text = string(out)
	}
	if text == "" {
		return nil
	}
	name := b.prefix + "-driver-podspec-conf-map"
	cm := &corev1.ConfigMap{}
	cm.APIVersion, cm.Kind = "v1", "ConfigMap"
	cm.Name = name
	cm.OwnerReferences = b.ownerRefs()
	cm.Immutable = b.immutable()
	cm.Data = map[string]string{podTemplateKey: text}
	b.objs.ExecutorTemplate = cm
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: podTemplateVolume,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name},
			Items:                []corev1.KeyToPath{{Key: podTemplateKey, Path: podTemplateFileName}},
		}}})
	b.ctr.VolumeMounts = append(b.ctr.VolumeMounts, corev1.VolumeMount{Name: podTemplateVolume, MountPath: podTemplateMountPath})
	b.props["spark.kubernetes.executor.podTemplateFile"] = executorTemplatePath
	return nil
}

// immutable is the Immutable field of the ConfigMaps spark-submit creates: set from 3.2 on,
// absent before.
func (b *builder) immutable() *bool {
	if b.v.atLeast(3, 2, 0) {
		return ptr(true)
	}
	return nil
}

// networkPolicyStep is Spark 4.2's NetworkPolicyFeatureStep: only pods of the same
// application may reach the executors.
func (b *builder) networkPolicyStep() error {
	if !b.v.atLeast(4, 2, 0) {
		return nil
	}
	app := map[string]string{wellknown.LabelSparkAppSelector: b.id.appID}
	np := &networkingv1.NetworkPolicy{}
	np.APIVersion, np.Kind = "networking.k8s.io/v1", "NetworkPolicy"
	np.Name = b.prefix + "-policy"
	np.Namespace = b.job.Namespace
	np.Labels = mergeStrings(nil, app)
	np.OwnerReferences = b.ownerRefs()
	np.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{wellknown.LabelSparkAppSelector: b.id.appID, wellknown.LabelSparkRole: "executor"}}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
		PodSelector: &metav1.LabelSelector{MatchLabels: mergeStrings(nil, app)}}}}}
	b.objs.NetworkPolicy = np
	return nil
}

// ParsePodTemplate parses a pod template file (YAML or JSON) the way Spark's template loader
// accepts it: a Pod, with apiVersion and kind optional. Unknown fields are an error, so typos
// surface at submission instead of being dropped silently.
func ParsePodTemplate(data []byte) (*corev1.Pod, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the pod template is empty")
	}
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict(data, pod); err != nil {
		return nil, fmt.Errorf("the pod template is not a valid Kubernetes Pod: %w", err)
	}
	if pod.Kind != "" && pod.Kind != "Pod" {
		return nil, fmt.Errorf("the pod template's kind must be Pod, got %q", pod.Kind)
	}
	if pod.APIVersion != "" && pod.APIVersion != "v1" {
		return nil, fmt.Errorf("the pod template's apiVersion must be v1, got %q", pod.APIVersion)
	}
	return pod, nil
}
