package spark

import corev1 "k8s.io/api/core/v1"

// DriverProperties returns the ConfigMap a driver pod made by Build reads its
// spark.properties from (the spark-conf-volume-driver volume), and the file's key in it;
// ok is false for a pod that mounts none.
func DriverProperties(pod *corev1.Pod) (configMap, key string, ok bool) {
	for _, v := range pod.Spec.Volumes {
		if v.Name == sparkConfVolume && v.ConfigMap != nil {
			return v.ConfigMap.Name, sparkPropertiesFile, true
		}
	}
	return "", "", false
}

// DriverUI reads from a driver's properties whether it serves the Spark UI and on which port:
// spark.ui.enabled (default true) and spark.ui.port (default 4040), parsed as Spark parses
// them. A port of 0 means Spark binds whatever port is free.
func DriverUI(props map[string]string) (enabled bool, port int, err error) {
	c := conf(props)
	if enabled, err = c.bool("spark.ui.enabled", true); err != nil {
		return false, 0, err
	}
	if port, err = c.int("spark.ui.port", defaultUIPort); err != nil {
		return false, 0, err
	}
	return enabled, port, nil
}
