package emulator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Settings a simulated job reads from its spark.properties.
const (
	// ConfDuration is how long the executors are held once they all run.
	ConfDuration = "spark.sparkplane.sandbox.duration"
	// ConfExitCode is the exit code the driver ends with.
	ConfExitCode = "spark.sparkplane.sandbox.exitCode"
	// DefaultDuration is the hold when ConfDuration is not set.
	DefaultDuration = 30 * time.Second
)

// Conf is a driver's spark.properties, with Spark's typed readers on top.
type Conf map[string]string

func (c Conf) get(key, def string) string {
	if v, ok := c[key]; ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

// firstSet returns the value of the first key that is set, and whether any was.
func (c Conf) firstSet(keys ...string) (string, bool) {
	for _, k := range keys {
		if v, ok := c[k]; ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func (c Conf) prefixed(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}

func (c Conf) boolean(key string, def bool) (bool, error) {
	v, ok := c.firstSet(key)
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: must be true or false", key, v)
	}
	return b, nil
}

func (c Conf) integer(key string, def int) (int, error) {
	v, ok := c.firstSet(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: must be a whole number >= 0", key, v)
	}
	return n, nil
}

// Duration returns the simulated job's hold time from ConfDuration.
func (c Conf) Duration() (time.Duration, error) {
	v, ok := c.firstSet(ConfDuration)
	if !ok {
		return DefaultDuration, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && !math.IsInf(s, 0) {
		return time.Duration(s * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%s=%q: must be a Go duration such as 90s or a number of seconds >= 0", ConfDuration, v)
}

// ExitCode returns the simulated job's exit code from ConfExitCode.
func (c Conf) ExitCode() (int, error) {
	v, ok := c.firstSet(ConfExitCode)
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("%s=%q: must be a whole number from 0 to 255", ConfExitCode, v)
	}
	return n, nil
}

// ExecutorCount is the number of executors a driver asks for at start: spark.executor.instances
// (default 2), or with dynamic allocation the largest of it, the minimum and the initial count,
// as Spark's Utils.getDynamicAllocationInitialExecutors does.
func (c Conf) ExecutorCount() (int, error) {
	dyn, err := c.boolean("spark.dynamicAllocation.enabled", false)
	if err != nil {
		return 0, err
	}
	if !dyn {
		return c.integer("spark.executor.instances", 2)
	}
	n := 0
	for _, k := range []string{"spark.dynamicAllocation.minExecutors", "spark.dynamicAllocation.initialExecutors", "spark.executor.instances"} {
		v, err := c.integer(k, 0)
		if err != nil {
			return 0, err
		}
		n = max(n, v)
	}
	return n, nil
}

// byteStringMiB parses a Spark size ("4g", "512m", "1024") into MiB; a bare number is in
// defaultUnit ("m" for memory settings), as JavaUtils.byteStringAsMb reads it.
func byteStringMiB(key, v, defaultUnit string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	if num == "" {
		return 0, fmt.Errorf("%s=%q: must be a size such as 4g, 512m or 1024 (MiB)", key, v)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: must be a size such as 4g, 512m or 1024 (MiB)", key, v)
	}
	if unit == "" {
		unit = defaultUnit
	}
	var bytes float64
	switch unit {
	case "b":
		bytes = float64(n)
	case "k", "kb":
		bytes = float64(n) * (1 << 10)
	case "m", "mb":
		bytes = float64(n) * (1 << 20)
	case "g", "gb":
		bytes = float64(n) * (1 << 30)
	case "t", "tb":
		bytes = float64(n) * (1 << 40)
	case "p", "pb":
		bytes = float64(n) * (1 << 50)
	default:
		return 0, fmt.Errorf("%s=%q: unknown size unit %q (use b, k, m, g, t or p)", key, v, unit)
	}
	return int64(bytes / (1 << 20)), nil
}

// ExecutorMemoryMiB returns the executor memory request and limit in MiB: spark.executor.memory
// (default 1g) plus the overhead (spark.executor.memoryOverhead, else max(factor × memory,
// minimum overhead)), plus spark.executor.pyspark.memory and off-heap memory when set, as
// BasicExecutorFeatureStep computes it.
func (c Conf) ExecutorMemoryMiB() (int64, error) {
	mem, err := byteStringMiB("spark.executor.memory", c.get("spark.executor.memory", "1g"), "m")
	if err != nil {
		return 0, err
	}
	var overhead int64
	if v, ok := c.firstSet("spark.executor.memoryOverhead"); ok {
		if overhead, err = byteStringMiB("spark.executor.memoryOverhead", v, "m"); err != nil {
			return 0, err
		}
	} else {
		factor, err := c.overheadFactor()
		if err != nil {
			return 0, err
		}
		minimum, err := byteStringMiB("spark.executor.minMemoryOverhead", c.get("spark.executor.minMemoryOverhead", "384m"), "m")
		if err != nil {
			return 0, err
		}
		overhead = max(int64(factor*float64(mem)), minimum)
	}
	total := mem + overhead
	if v, ok := c.firstSet("spark.executor.pyspark.memory"); ok {
		py, err := byteStringMiB("spark.executor.pyspark.memory", v, "m")
		if err != nil {
			return 0, err
		}
		total += py
	}
	offHeap, err := c.boolean("spark.memory.offHeap.enabled", false)
	if err != nil {
		return 0, err
	}
	if offHeap {
		oh, err := byteStringMiB("spark.memory.offHeap.size", c.get("spark.memory.offHeap.size", "0"), "b")
		if err != nil {
			return 0, err
		}
		total += oh
	}
	return total, nil
}

// overheadFactor is spark.executor.memoryOverheadFactor when set, else
// spark.kubernetes.memoryOverheadFactor when set, else 0.4 for Python and R apps and 0.1 for
// JVM apps.
func (c Conf) overheadFactor() (float64, error) {
	for _, k := range []string{"spark.executor.memoryOverheadFactor", "spark.kubernetes.memoryOverheadFactor"} {
		if v, ok := c.firstSet(k); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return 0, fmt.Errorf("%s=%q: must be a number > 0", k, v)
			}
			return f, nil
		}
	}
	switch strings.ToLower(c.get("spark.kubernetes.resource.type", "java")) {
	case "python", "r":
		return 0.4, nil
	}
	return 0.1, nil
}
