package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// column is one column of a list table: its header and how to read the cell from an item.
type column[T any] struct {
	header string
	value  func(T) string
}

// printJSON writes the API form of v (see toAPI) as indented JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(toAPI(v), "", "    ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printYAML writes the API form of v as YAML.
func printYAML(w io.Writer, v any) error {
	b, err := json.Marshal(toAPI(v))
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = w.Write(y)
	return err
}

// printStructured prints v as JSON or YAML and reports whether the format was one of those.
func (a *app) printStructured(w io.Writer, v any) (bool, error) {
	switch a.g.output {
	case "json":
		return true, printJSON(w, v)
	case "yaml":
		return true, printYAML(w, v)
	}
	return false, nil
}

// printList prints v (a whole SDK output) as JSON/YAML, or its items as an aligned table.
func printList[T any](a *app, w io.Writer, v any, items []T, cols []column[T], nextToken *string) error {
	if ok, err := a.printStructured(w, v); ok {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	hs := make([]string, len(cols))
	for i, c := range cols {
		hs[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(hs, "\t"))
	for _, it := range items {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(c.value(it))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if nextToken != nil && *nextToken != "" {
		fmt.Fprintf(tw, "\nMore results: repeat with --starting-token %s\n", *nextToken)
	}
	return tw.Flush()
}

// printDetail prints v as JSON/YAML, or as a two-column table of its fields with dotted paths
// (jobDriver.sparkSubmitJobDriver.entryPoint), the nesting of the API shape kept visible.
func (a *app) printDetail(w io.Writer, v any) error {
	if ok, err := a.printStructured(w, v); ok {
		return err
	}
	var rows [][2]string
	flatten("", unwrapSingle(toAPI(v)), &rows)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], cell(r[1]))
	}
	return tw.Flush()
}

// unwrapSingle drops the one top-level key of outputs such as {"jobRun": {...}}, so the table
// lists the job run's own fields.
func unwrapSingle(v any) any {
	if o, ok := v.(*object); ok && len(o.keys) == 1 {
		if inner, ok := o.vals[o.keys[0]].(*object); ok {
			return inner
		}
	}
	return v
}

// flatten walks a toAPI value and collects one row per leaf.
func flatten(path string, v any, rows *[][2]string) {
	switch t := v.(type) {
	case *object:
		for _, k := range t.keys {
			flatten(join(path, k), t.vals[k], rows)
		}
	case []any:
		scalars := true
		parts := make([]string, 0, len(t))
		for _, e := range t {
			switch e.(type) {
			case *object, []any:
				scalars = false
			}
			parts = append(parts, fmt.Sprint(e))
		}
		if scalars {
			*rows = append(*rows, [2]string{path, strings.Join(parts, " ")})
			return
		}
		for i, e := range t {
			flatten(fmt.Sprintf("%s[%d]", path, i), e, rows)
		}
	default:
		*rows = append(*rows, [2]string{path, fmt.Sprint(t)})
	}
}

// cell keeps a table cell on one line and marks empty cells.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}
