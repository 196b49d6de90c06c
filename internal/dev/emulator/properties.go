package emulator

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ParseProperties parses text in the java.util.Properties format that Spark writes
// spark.properties in: '#' and '!' comments, "key=value", "key:value" and "key value" lines,
// backslash line continuations, and the escapes \t \n \r \f \uXXXX and \<char>.
// Later duplicates win, as with Properties.load. It is written apart from the product's own
// reader (spark.ReadProperties) on purpose: the emulator plays the JVM's Properties.load, so a
// bug in how sparkplane writes the file shows up here instead of being read back the same way.
func ParseProperties(text string) (map[string]string, error) {
	props := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// A line ending in an odd number of backslashes continues on the next one, whose
		// leading white space is dropped.
		for endsInContinuation(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if endsInContinuation(line) {
			line = line[:len(line)-1]
		}
		key, value := splitProperty(line)
		k, err := unescapeProperty(key)
		if err != nil {
			return nil, fmt.Errorf("spark.properties line %d: key: %w", lineNo, err)
		}
		v, err := unescapeProperty(value)
		if err != nil {
			return nil, fmt.Errorf("spark.properties line %d: value of %s: %w", lineNo, k, err)
		}
		props[k] = v
	}
	return props, nil
}

func endsInContinuation(line string) bool {
	n := 0
	for j := len(line) - 1; j >= 0 && line[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// splitProperty cuts a logical line at the first unescaped '=', ':' or white space; the
// separator may be surrounded by white space.
func splitProperty(line string) (key, value string) {
	end := len(line)
	for j := 0; j < len(line); j++ {
		c := line[j]
		if c == '\\' {
			j++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = j
			break
		}
	}
	key = line[:end]
	rest := strings.TrimLeft(line[end:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c != '\\' || j+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		j++
		switch s[j] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if j+5 > len(s) {
				return "", fmt.Errorf("malformed \\u escape %q: want four hex digits", s[j-1:])
			}
			r, err := strconv.ParseUint(s[j+1:j+5], 16, 32)
			if err != nil {
				return "", fmt.Errorf("malformed \\u escape %q: want four hex digits", s[j-1:j+5])
			}
			b.WriteRune(rune(r))
			j += 4
		default:
			b.WriteByte(s[j])
		}
	}
	out := b.String()
	if !isValidText(out) {
		return "", fmt.Errorf("escape produced invalid text")
	}
	return out, nil
}

func isValidText(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}
