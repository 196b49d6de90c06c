package sparksim

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Line is one record of a simulated output: a log4j record of a driver or executor log, or
// one JSON event of the event log. At is when Spark would have written it. Text has no
// trailing line break; a log record that carries a stack trace spans several physical lines,
// as it does in Spark's own logs.
type Line struct {
	At   time.Time
	Text string
}

// WriteLines writes lines as a log file: each Text followed by a line break.
func WriteLines(w io.Writer, lines []Line) error {
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		if _, err := bw.WriteString(l.Text); err != nil {
			return err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Until returns the leading lines written at or before t. Lines are sorted by At, so a caller
// that emits output as time passes writes Until(lines, now)[done:] and remembers the length.
func Until(lines []Line, t time.Time) []Line {
	n := sort.Search(len(lines), func(i int) bool { return lines[i].At.After(t) })
	return lines[:n]
}

// logTimeLayout is the date part of Spark's default log4j2 pattern,
// "%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex"; pods log in UTC.
const logTimeLayout = "06/01/02 15:04:05"

// logBuf collects the records of one log; records may be added out of time order.
type logBuf struct {
	lines []Line
}

// log adds one log4j record. logger is the class's simple name, as %c{1} prints it.
func (b *logBuf) log(at time.Time, level, logger, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	b.lines = append(b.lines, Line{At: at, Text: at.UTC().Format(logTimeLayout) + " " + level + " " + logger + ": " + msg})
}

func (b *logBuf) info(at time.Time, logger, format string, args ...any) {
	b.log(at, "INFO", logger, format, args...)
}

// raw adds text the JVM writes to the console without log4j, such as an uncaught exception.
func (b *logBuf) raw(at time.Time, text string) {
	b.lines = append(b.lines, Line{At: at, Text: text})
}

// sorted returns the records in time order; records with the same time keep the order they
// were added in, which is the order Spark writes them.
func (b *logBuf) sorted() []Line {
	out := slices.Clone(b.lines)
	slices.SortStableFunc(out, func(x, y Line) int { return x.At.Compare(y.At) })
	return out
}

// bytesString formats a size as Spark's Utils.bytesToString does: one decimal, binary units,
// and a unit is used only from twice its size on (1.5 MiB prints as "1536.0 KiB").
func bytesString(n int64) string {
	const (
		kib = int64(1) << 10
		mib = int64(1) << 20
		gib = int64(1) << 30
		tib = int64(1) << 40
	)
	f := float64(n)
	switch {
	case n >= 2*tib:
		return fmt.Sprintf("%.1f TiB", f/float64(tib))
	case n >= 2*gib:
		return fmt.Sprintf("%.1f GiB", f/float64(gib))
	case n >= 2*mib:
		return fmt.Sprintf("%.1f MiB", f/float64(mib))
	case n >= 2*kib:
		return fmt.Sprintf("%.1f KiB", f/float64(kib))
	}
	return fmt.Sprintf("%.1f B", f)
}

// seconds formats a duration the way DAGScheduler's "finished in %s s" does ("%.03f").
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d.Milliseconds())/1000)
}

// version is a Spark version's major and minor number, which is all that changes the output.
type version struct{ major, minor int }

var versionPattern = regexp.MustCompile(`^(\d+)\.(\d+)`)

func parseVersion(s string) (version, bool) {
	m := versionPattern.FindStringSubmatch(s)
	if m == nil {
		return version{}, false
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return version{}, false
	}
	return version{major, minor}, true
}

func (v version) atLeast(major, minor int) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

// The event log is written with a small JSON encoder of its own: Spark writes each event's
// members in a fixed order (which encoding/json keeps only for structs), does not escape
// HTML characters, and writes some doubles as "1.0".

// object is a JSON object whose members keep their order.
type object []member

type member struct {
	key   string
	value any
}

// double is a float written with a decimal point, as Jackson writes a Scala Double.
type double float64

// appendJSON appends v as JSON. It knows the handful of types the event log uses.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case double:
		s := strconv.FormatFloat(float64(x), 'f', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return append(b, s...)
	case object:
		b = append(b, '{')
		for i, m := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m.key)
			b = append(b, ':')
			b = appendJSON(b, m.value)
		}
		return append(b, '}')
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, x[k])
		}
		return append(b, '}')
	case []object:
		b = append(b, '[')
		for i, o := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, o)
		}
		return append(b, ']')
	case []int:
		b = append(b, '[')
		for i, n := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		return append(b, ']')
	}
	panic(fmt.Sprintf("sparksim: no JSON encoding for %T", v))
}

func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	clean := 0 // s[:clean] needs no escaping
	for clean < len(s) && s[clean] >= 0x20 && s[clean] != '"' && s[clean] != '\\' {
		clean++
	}
	b = append(b, s[:clean]...)
	for i := clean; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
