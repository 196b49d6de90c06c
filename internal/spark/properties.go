package spark

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// attachConfMap is what Client.run does after the feature steps: it builds the spark.properties
// ConfigMap from the resolved properties and the conf files, mounts it at /opt/spark/conf and
// points SPARK_CONF_DIR there.
func (b *builder) attachConfMap() error {
	maxSize := int64(1 << 20)
	if !b.v.atLeast(3, 3, 2) {
		maxSize = 1572864
	}
	maxSize, err := b.c.mebibytesOrBytes("spark.kubernetes.configMap.maxSize", maxSize)
	if err != nil {
		return err
	}
	data := map[string]string{}
	var total int64
	for _, name := range sortedKeys(b.job.ConfFiles) {
		if name == sparkPropertiesFile || strings.ContainsAny(name, "/\\") || name == "" {
			return &JobError{Field: "ConfFiles", Rule: fmt.Sprintf("%q must be a plain file name other than spark.properties", name)}
		}
		data[name] = b.job.ConfFiles[name]
		total += int64(len(name) + len(data[name]))
	}
	if total > maxSize {
		return &JobError{Field: "ConfFiles", Rule: fmt.Sprintf("the configuration files take %d bytes, more than spark.kubernetes.configMap.maxSize (%d)", total, maxSize)}
	}
	data[sparkPropertiesFile] = WriteProperties(b.props, "Java properties built from Kubernetes config map with name: "+b.cmName, b.job.SubmitTime)
	items := make([]corev1.KeyToPath, 0, len(data))
	for _, k := range sortedKeys(data) {
		items = append(items, corev1.KeyToPath{Key: k, Path: k, Mode: ptr(int32(0o644))})
	}
	cm := &corev1.ConfigMap{}
	cm.APIVersion, cm.Kind = "v1", "ConfigMap"
	cm.Name = b.cmName
	// From 3.3 on Client.run adds the namespace as one more data key, which it reads back to
	// choose the ConfigMap's namespace; it is not a file and is not mounted. Older versions
	// leave both out and create the ConfigMap through the namespaced client.
	if b.v.atLeast(3, 3, 0) {
		data["spark.kubernetes.namespace"] = b.job.Namespace
		cm.Namespace = b.job.Namespace
	}
	cm.OwnerReferences = b.ownerRefs()
	cm.Immutable = b.immutable()
	cm.Data = data
	b.objs.ConfigMap = cm

	b.ctr.Env = append(b.ctr.Env, corev1.EnvVar{Name: "SPARK_CONF_DIR", Value: sparkConfDir})
	b.ctr.VolumeMounts = append(b.ctr.VolumeMounts, corev1.VolumeMount{Name: sparkConfVolume, MountPath: sparkConfDir})
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: sparkConfVolume,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: b.cmName}, Items: items}}})
	return nil
}

// mebibytesOrBytes reads a plain byte count (spark.kubernetes.configMap.maxSize is a long).
func (c conf) mebibytesOrBytes(key string, def int64) (int64, error) {
	if _, ok := c[key]; !ok {
		return def, nil
	}
	n, err := parseByteString(c[key], 1)
	if err != nil {
		return 0, &ConfError{Key: key, Rule: err.Error()}
	}
	return n, nil
}

// javaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz yyyy".
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// WriteProperties writes props the way java.util.Properties.store does on Java 18+: a
// comment line, a date line, then one key=value line per entry in sorted key order, with
// '\', '=', ':', '#', '!' escaped, leading spaces of values (every space of keys) escaped,
// tab/newline/return/form-feed as \t \n \r \f and any other character outside printable
// ASCII as \uXXXX (UTF-16), so the file is pure ASCII whatever the reader's charset.
func WriteProperties(props map[string]string, comment string, date time.Time) string {
	var sb strings.Builder
	sb.WriteString("#")
	sb.WriteString(comment)
	sb.WriteString("\n#")
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	sb.WriteString(date.UTC().Format(javaDateLayout))
	sb.WriteString("\n")
	for _, k := range sortedKeys(props) {
		writeEscaped(&sb, k, true)
		sb.WriteByte('=')
		writeEscaped(&sb, props[k], false)
		sb.WriteByte('\n')
	}
	return sb.String()
}

const hexDigits = "0123456789ABCDEF"

func writeEscaped(sb *strings.Builder, s string, isKey bool) {
	for i, r := range s {
		switch r {
		case ' ':
			if i == 0 || isKey {
				sb.WriteByte('\\')
			}
			sb.WriteByte(' ')
		case '\t':
			sb.WriteString(`\t`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\f':
			sb.WriteString(`\f`)
		case '=', ':', '#', '!', '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		default:
			if r >= 0x20 && r <= 0x7e {
				sb.WriteRune(r)
				continue
			}
			for _, u := range utf16Units(r) {
				sb.WriteString(`\u`)
				sb.WriteByte(hexDigits[u>>12&0xf])
				sb.WriteByte(hexDigits[u>>8&0xf])
				sb.WriteByte(hexDigits[u>>4&0xf])
				sb.WriteByte(hexDigits[u&0xf])
			}
		}
	}
}

func utf16Units(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xd800 + (r >> 10)), uint16(0xdc00 + (r & 0x3ff))}
}

// ReadProperties parses text written by WriteProperties (or by Java's Properties.store) back
// into a map, following java.util.Properties.load: comments, key/value separators '=', ':' or
// whitespace, backslash escapes and line continuations.
func ReadProperties(text string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		k, v := splitProperty(line)
		out[unescapeProperty(k)] = unescapeProperty(v)
	}
	return out
}

// continues reports whether line ends in an odd number of backslashes.
func continues(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (string, string) {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '=', ':':
			return line[:i], strings.TrimLeft(line[i+1:], " \t\f")
		case ' ', '\t', '\f':
			rest := strings.TrimLeft(line[i:], " \t\f")
			if rest != "" && (rest[0] == '=' || rest[0] == ':') {
				rest = strings.TrimLeft(rest[1:], " \t\f")
			}
			return line[:i], rest
		}
	}
	return line, ""
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	var units []uint16
	flush := func() {
		if len(units) > 0 {
			sb.WriteString(decodeUTF16(units))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			flush()
			sb.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			flush()
			sb.WriteByte('\t')
		case 'n':
			flush()
			sb.WriteByte('\n')
		case 'r':
			flush()
			sb.WriteByte('\r')
		case 'f':
			flush()
			sb.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				flush()
				sb.WriteString(s[i-1:])
				return sb.String()
			}
			u, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				flush()
				sb.WriteString(s[i-1 : i+5])
			} else {
				units = append(units, uint16(u))
			}
			i += 4
		default:
			flush()
			sb.WriteByte(s[i])
		}
	}
	flush()
	return sb.String()
}

func decodeUTF16(units []uint16) string {
	var sb strings.Builder
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		if u >= 0xd800 && u < 0xdc00 && i+1 < len(units) {
			u = 0x10000 + (u-0xd800)<<10 + (rune(units[i+1]) - 0xdc00)
			i++
		}
		sb.WriteRune(u)
	}
	return sb.String()
}
