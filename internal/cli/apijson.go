package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
)

// The SDK's types carry Go field names and no JSON tags; the wire names are the Go names with a
// lower-case first letter (checked against the SDK's serializers for every field it has). This
// file converts between the SDK types and the API's JSON in both directions, so that the CLI
// reads and prints exactly the field names the aws CLI and the API documentation use.

// unionMembers lists, for each union interface in the SDK types, the member structs it can hold.
// Reflection cannot enumerate the implementations of an interface, so they are named here.
var unionMembers = map[reflect.Type][]reflect.Type{
	reflect.TypeFor[types.ContainerInfo](): {reflect.TypeFor[types.ContainerInfoMemberEksInfo]()},
	reflect.TypeFor[types.Credentials]():   {reflect.TypeFor[types.CredentialsMemberToken]()},
}

var timeType = reflect.TypeFor[time.Time]()

// apiName turns a Go field name of the SDK into its API (JSON) name.
func apiName(goName string) string {
	r := []rune(goName)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// unionMemberName is the API name of a union member type, e.g. ContainerInfoMemberEksInfo is
// "eksInfo".
func unionMemberName(t reflect.Type) string {
	_, after, _ := strings.Cut(t.Name(), "Member")
	return apiName(after)
}

// skipField reports whether a struct field is not part of the API shape.
func skipField(f reflect.StructField) bool {
	return !f.IsExported() || f.Name == "ResultMetadata"
}

// object is a JSON object that keeps its keys in insertion order, so printed output starts with
// id, name and arn and otherwise follows the SDK's shapes.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) set(k string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// dropNil removes the placeholder keys that got no value.
func (o *object) dropNil(keys []string) {
	for _, k := range keys {
		if o.vals[k] == nil {
			delete(o.vals, k)
			o.keys = slices.DeleteFunc(o.keys, func(s string) bool { return s == k })
		}
	}
}

// leadingFields are printed first in every shape, whatever their place in the SDK's
// alphabetical structs, because a reader looks for them first.
var leadingFields = []string{"id", "name", "arn"}

// isUnsetScalar reports a non-pointer enum, number or boolean at its zero value: the SDK's own
// serializer leaves such fields out, so they are not part of the shape.
func isUnsetScalar(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		return v.IsZero()
	}
	return false
}

// MarshalJSON writes the object with its keys in insertion order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// toAPI converts an SDK value (input, output or shape) into plain JSON values (*object, []any,
// string, bool, numbers) named as the API names them. Absent optional fields are left out, and
// times are ISO-8601 strings in UTC.
func toAPI(v any) any {
	out, _ := encodeValue(reflect.ValueOf(v))
	return out
}

// encodeValue returns the JSON form of v and whether it is present at all.
func encodeValue(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		if v.Kind() == reflect.Interface {
			if m, ok := encodeUnion(v.Elem()); ok {
				return m, true
			}
		}
		return encodeValue(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time).UTC().Format(time.RFC3339Nano), true
		}
		o := &object{}
		for _, first := range leadingFields {
			o.set(first, nil)
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if skipField(f) || isUnsetScalar(v.Field(i)) {
				continue
			}
			if fv, ok := encodeValue(v.Field(i)); ok {
				o.set(apiName(f.Name), fv)
			}
		}
		o.dropNil(leadingFields)
		return o, true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		list := make([]any, 0, v.Len())
		for i := range v.Len() {
			ev, _ := encodeValue(v.Index(i))
			list = append(list, ev)
		}
		return list, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		o := &object{}
		for _, k := range keys {
			ev, _ := encodeValue(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())))
			o.set(k, ev)
		}
		return o, true
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	default:
		return fmt.Sprint(v.Interface()), true
	}
}

// encodeUnion writes a union member (a *XMemberY holding Value) as {"y": value}.
func encodeUnion(v reflect.Value) (any, bool) {
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, false
	}
	s := v.Elem()
	if s.Kind() != reflect.Struct {
		return nil, false
	}
	if u, ok := v.Interface().(*types.UnknownUnionMember); ok {
		o := &object{}
		o.set(u.Tag, string(u.Value))
		return o, true
	}
	if !strings.Contains(s.Type().Name(), "Member") {
		return nil, false
	}
	val, ok := s.Type().FieldByName("Value")
	if !ok {
		return nil, false
	}
	o := &object{}
	ev, _ := encodeValue(s.FieldByIndex(val.Index))
	o.set(unionMemberName(s.Type()), ev)
	return o, true
}

// decoder fills SDK values from plain JSON values, checking every field name, type and enum
// value so that a mistake is reported with its path before any request is sent.
type decoder struct {
	// lenient accepts strings for numbers and booleans, as the shorthand syntax k=v produces.
	lenient bool
}

// fieldError is a problem at a path inside a JSON flag value.
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describeJSON(src any) string {
	switch src.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", src)
}

// decode stores src (as produced by encoding/json with UseNumber) into dst.
func (d decoder) decode(src any, dst reflect.Value, path string) error {
	t := dst.Type()
	if src == nil {
		// null leaves an optional field unset, as the aws CLI does.
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		if err := d.decode(src, nv.Elem(), path); err != nil {
			return err
		}
		dst.Set(nv)
		return nil
	case reflect.Interface:
		return d.decodeUnion(src, dst, path)
	case reflect.Struct:
		if t == timeType {
			s, ok := src.(string)
			if !ok {
				return &fieldError{path, "want an ISO-8601 timestamp string, got " + describeJSON(src)}
			}
			ts, err := parseTime(s)
			if err != nil {
				return &fieldError{path, err.Error()}
			}
			dst.Set(reflect.ValueOf(ts))
			return nil
		}
		m, ok := src.(map[string]any)
		if !ok {
			return &fieldError{path, "want an object, got " + describeJSON(src)}
		}
		fields := map[string]int{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			if skipField(f) {
				continue
			}
			fields[apiName(f.Name)] = i
			names = append(names, apiName(f.Name))
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			i, ok := fields[k]
			if !ok {
				return &fieldError{path, fmt.Sprintf("unknown field %q (valid fields: %s)", k, strings.Join(names, ", "))}
			}
			if err := d.decode(m[k], dst.Field(i), join(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		list, ok := src.([]any)
		if !ok {
			return &fieldError{path, "want a list, got " + describeJSON(src)}
		}
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, e := range list {
			if err := d.decode(e, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok {
			return &fieldError{path, "want an object, got " + describeJSON(src)}
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := d.decode(e, ev, join(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		dst.Set(out)
		return nil
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return &fieldError{path, "want a string, got " + describeJSON(src)}
		}
		if err := checkEnum(t, s); err != nil {
			return &fieldError{path, err.Error()}
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		switch b := src.(type) {
		case bool:
			dst.SetBool(b)
			return nil
		case string:
			if v, err := strconv.ParseBool(b); err == nil && d.lenient {
				dst.SetBool(v)
				return nil
			}
		}
		return &fieldError{path, "want true or false, got " + describeJSON(src)}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s := d.numberText(src)
		if s == "" {
			return &fieldError{path, "want a whole number, got " + describeJSON(src)}
		}
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return &fieldError{path, fmt.Sprintf("%q is not a whole number that fits in %d bits", s, t.Bits())}
		}
		dst.SetInt(n)
		return nil
	case reflect.Float32, reflect.Float64:
		s := d.numberText(src)
		f, err := strconv.ParseFloat(s, t.Bits())
		if s == "" || err != nil {
			return &fieldError{path, "want a number, got " + describeJSON(src)}
		}
		dst.SetFloat(f)
		return nil
	}
	return &fieldError{path, fmt.Sprintf("unsupported type %s", t)}
}

// numberText is the text of a JSON number, or of a string where shorthand input is lenient;
// "" for anything else.
func (d decoder) numberText(src any) string {
	switch n := src.(type) {
	case json.Number:
		return n.String()
	case string:
		if d.lenient {
			return n
		}
	}
	return ""
}

// decodeUnion fills a union interface from an object with exactly one member key.
func (d decoder) decodeUnion(src any, dst reflect.Value, path string) error {
	members := unionMembers[dst.Type()]
	var names []string
	for _, m := range members {
		names = append(names, unionMemberName(m))
	}
	m, ok := src.(map[string]any)
	if !ok || len(m) != 1 {
		return &fieldError{path, fmt.Sprintf("want an object with exactly one of: %s", strings.Join(names, ", "))}
	}
	for k, v := range m {
		i := slices.Index(names, k)
		if i < 0 {
			return &fieldError{path, fmt.Sprintf("unknown field %q (valid fields: %s)", k, strings.Join(names, ", "))}
		}
		mv := reflect.New(members[i])
		if err := d.decode(v, mv.Elem().FieldByName("Value"), join(path, k)); err != nil {
			return err
		}
		dst.Set(mv)
	}
	return nil
}

// checkEnum verifies s against the Values() of an SDK enum type; plain strings pass.
func checkEnum(t reflect.Type, s string) error {
	m, ok := t.MethodByName("Values")
	if !ok || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
		return nil
	}
	vals := m.Func.Call([]reflect.Value{reflect.Zero(t)})[0]
	var allowed []string
	for i := range vals.Len() {
		v := vals.Index(i).String()
		if v == s {
			return nil
		}
		allowed = append(allowed, v)
	}
	return fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, ", "))
}

// parseTime reads a timestamp the way the aws CLI accepts one: ISO-8601 with or without a zone
// (UTC when absent), a bare date, or Unix seconds.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp (want ISO-8601 like 2024-05-01T12:00:00Z, a date like 2024-05-01, or Unix seconds)", s)
}
