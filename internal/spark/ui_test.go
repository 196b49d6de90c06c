package spark

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestDriverUI(t *testing.T) {
	for _, tc := range []struct {
		name    string
		props   map[string]string
		enabled bool
		port    int
		wantErr bool
	}{
		{"defaults", nil, true, 4040, false},
		{"port", map[string]string{"spark.ui.port": " 4050"}, true, 4050, false},
		{"disabled", map[string]string{"spark.ui.enabled": "FALSE"}, false, 4040, false},
		{"random port", map[string]string{"spark.ui.port": "0"}, true, 0, false},
		{"bad port", map[string]string{"spark.ui.port": "http"}, false, 0, true},
		{"bad enabled", map[string]string{"spark.ui.enabled": "no"}, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enabled, port, err := DriverUI(tc.props)
			if (err != nil) != tc.wantErr || enabled != tc.enabled || port != tc.port {
				t.Errorf("DriverUI(%v) = %v, %d, %v; want %v, %d, error %v", tc.props, enabled, port, err, tc.enabled, tc.port, tc.wantErr)
			}
		})
	}
}

// TestDriverProperties finds the spark.properties ConfigMap of the driver Build makes.
func TestDriverProperties(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "spark-local-dir-1", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: sparkConfVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "spark-drv-conf-map"}}}},
	}}}
	if cm, key, ok := DriverProperties(pod); !ok || cm != "spark-drv-conf-map" || key != "spark.properties" {
		t.Errorf("DriverProperties = %q, %q, %v", cm, key, ok)
	}
	if _, _, ok := DriverProperties(&corev1.Pod{}); ok {
		t.Error("a pod without the volume has properties")
	}
}
