package spark

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// conf is a Spark configuration map with the typed getters the feature steps need.
type conf map[string]string

func (c conf) get(key, def string) string {
	if v, ok := c[key]; ok {
		return v
	}
	return def
}

func (c conf) has(key string) bool { _, ok := c[key]; return ok }

// withPrefix returns the entries under prefix with the prefix cut, like
// SparkConf.getAllWithPrefix.
func (c conf) withPrefix(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimPrefix(k, prefix)] = v
		}
	}
	return out
}

// sortedKeys returns m's keys in order; Spark iterates Scala maps whose order no reader depends
// on, sparkplane picks sorted order so its objects are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c conf) int(key string, def int) (int, error) {
	v, ok := c[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, &ConfError{Key: key, Rule: fmt.Sprintf("%q must be an integer", v)}
	}
	return n, nil
}

func (c conf) bool(key string, def bool) (bool, error) {
	v, ok := c[key]
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(strings.ToLower(v)))
	if err != nil {
		return false, &ConfError{Key: key, Rule: fmt.Sprintf("%q must be true or false", v)}
	}
	return b, nil
}

func (c conf) float(key string) (float64, bool, error) {
	v, ok := c[key]
	if !ok {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, true, &ConfError{Key: key, Rule: fmt.Sprintf("%q must be a positive number", v)}
	}
	return f, true, nil
}

// mebibytes reads a size in Spark's byte-string syntax ("1g", "512m", "2048") whose default
// unit is MiB, as Spark's bytesConf(ByteUnit.MiB) does, and returns whole MiB.
func (c conf) mebibytes(key string, def int64) (int64, error) {
	v, ok := c[key]
	if !ok {
		return def, nil
	}
	n, err := parseByteString(v, 1<<20)
	if err != nil {
		return 0, &ConfError{Key: key, Rule: err.Error()}
	}
	return n / (1 << 20), nil
}

var reByteString = regexp.MustCompile(`^([0-9]+)([a-z]+)?$`)

// parseByteString is JavaUtils.byteStringAs: an integer with an optional unit (b, k, kb, m,
// mb, g, gb, t, tb, p, pb; case-insensitive); without a unit the number counts defUnit bytes.
func parseByteString(s string, defUnit int64) (int64, error) {
	m := reByteString.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q must be a size such as 512m, 2g or 4096 (MiB)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	unit := defUnit
	switch m[2] {
	case "":
	case "b":
		unit = 1
	case "k", "kb":
		unit = 1 << 10
	case "m", "mb":
		unit = 1 << 20
	case "g", "gb":
		unit = 1 << 30
	case "t", "tb":
		unit = 1 << 40
	case "p", "pb":
		unit = 1 << 50
	default:
		return 0, fmt.Errorf("%q has an unknown unit %q (use b, k, m, g, t or p)", s, m[2])
	}
	if n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * unit, nil
}

// javaDouble formats f the way Scala's Double.toString does for the factors Spark writes
// ("0.1", "0.4", "1.0").
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// splitList splits a comma-separated Spark list, trimming entries and dropping empty ones.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
