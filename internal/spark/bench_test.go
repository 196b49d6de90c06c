package spark

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkBuild measures Build for the oracle's minimal case and its pod-template case;
// objects/s counts every object returned (pod, Service, ConfigMaps, ...).
func BenchmarkBuild(b *testing.B) {
	tmpl := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-driver"}}}}
	execTmpl := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-executor"}}}}
	cases := map[string]func(j *Job){
		"minimal": func(*Job) {},
		"podtemplate": func(j *Job) {
			j.DriverPodTemplate, j.ExecutorPodTemplate = tmpl, execTmpl
			j.Conf["spark.kubernetes.driver.podTemplateContainerName"] = "spark-kubernetes-driver"
			j.Conf["spark.kubernetes.executor.podTemplateContainerName"] = "spark-kubernetes-executor"
		},
	}
	for _, name := range []string{"minimal", "podtemplate"} {
		b.Run(name, func(b *testing.B) {
			j := Job{SparkVersion: "4.0.4", Image: "spark:4.0.4", Namespace: "default", AppName: "sparkpi",
				JobRunID: "0000000benchmark000", Attempt: 1, VirtualClusterID: "vc",
				Driver: Driver{Kind: DriverJVM, EntryPoint: "local:///opt/spark/examples/jars/spark-examples_2.13-4.0.4.jar", MainClass: "org.apache.spark.examples.SparkPi"},
				Conf:   map[string]string{"spark.kubernetes.submission.waitAppCompletion": "false"}}
			cases[name](&j)
			objects := 0
			b.ReportAllocs()
			for b.Loop() {
				o, err := Build(j)
				if err != nil {
					b.Fatal(err)
				}
				objects += 1 + len(o.Dependents())
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
