package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"
)

// loadParam resolves the file:// and fileb:// prefixes the aws CLI accepts for any parameter:
// the rest of the value is a path (relative to the working directory, ~ expanded) whose
// contents become the value.
func loadParam(raw string) (string, error) {
	for _, prefix := range []string{"file://", "fileb://"} {
		if p, ok := strings.CutPrefix(raw, prefix); ok {
			if rest, ok := strings.CutPrefix(p, "~/"); ok {
				if home, err := os.UserHomeDir(); err == nil {
					p = home + "/" + rest
				}
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return "", fmt.Errorf("read %s%s: %w", prefix, p, errors.Unwrap(err))
			}
			return string(b), nil
		}
	}
	return raw, nil
}

// parseParam fills dst (a pointer to an SDK shape, map or slice) from a flag value: JSON, a
// file:// reference to JSON, or for flat shapes the aws CLI shorthand k1=v1,k2=v2. Every error
// names the flag.
func parseParam(flag, raw string, dst any) error {
	err := parseParamValue(raw, dst)
	if err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	return nil
}

func parseParamValue(raw string, dst any) error {
	s, err := loadParam(raw)
	if err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("value is empty")
	}
	dv := reflect.ValueOf(dst).Elem()
	if s[0] == '{' || s[0] == '[' || s[0] == '"' {
		v, err := decodeJSON(s)
		if err != nil {
			return err
		}
		return decoder{}.decode(v, dv, "")
	}
	v, err := parseShorthand(s)
	if err != nil {
		return fmt.Errorf("%w (or pass JSON, or file://path to a JSON file)", err)
	}
	return decoder{lenient: true}.decode(v, dv, "")
}

// decodeJSON parses one JSON value, keeping numbers exact, and rejects trailing data.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("invalid JSON: unexpected end of input")
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the value at byte %d", dec.InputOffset())
	}
	return v, nil
}

// parseShorthand reads the flat form of the aws CLI shorthand syntax, k1=v1,k2=v2, into an
// object of strings.
func parseShorthand(s string) (map[string]any, error) {
	out := map[string]any{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", strings.TrimSpace(pair))
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("key %q given twice", k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// parseTimeFlag reads a timestamp flag; an empty value means "not set".
func parseTimeFlag(flag, raw string) (*time.Time, error) {
	if raw == "" {
		return nil, nil
	}
	t, err := parseTime(raw)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return &t, nil
}

// parseEnumList checks each value of a list flag against an SDK enum type T.
func parseEnumList[T ~string](flag string, raw []string) ([]T, error) {
	var out []T
	for _, r := range raw {
		for _, s := range strings.Fields(strings.ReplaceAll(r, ",", " ")) {
			if err := checkEnum(reflect.TypeFor[T](), s); err != nil {
				return nil, fmt.Errorf("--%s: %w", flag, err)
			}
			out = append(out, T(s))
		}
	}
	return out, nil
}
