package sparksim

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The shape test compares the members of each simulated event with those of the same event in
// a real log of the same Spark version, from the oracle beside the repository
// (shared/conformance/spark-event-logs): every member path the simulation writes must occur
// in the real log, and every member the real log always writes at a path must be written.
// Members that hold data (properties, environment maps) are compared as values, not shapes.

// conformanceDir finds shared/conformance/spark-event-logs in a directory above this one
// (the shared workspace keeps it beside the repository's worktrees).
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "conformance", "spark-event-logs")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("Spark event-log oracle not found: expected shared/conformance/spark-event-logs in a directory above the package")
		}
		dir = parent
	}
}

// dataMembers hold maps of data; their keys are not part of an event's shape.
var dataMembers = map[string]bool{
	"Spark Properties": true, "Hadoop Properties": true, "System Properties": true, "Metrics Properties": true,
	"Classpath Entries": true, "JVM Information": true, "Properties": true, "Log Urls": true, "Attributes": true,
	"Resources": true, "Executor Resource Requests": true, "Task Resource Requests": true,
}

// shape is, per event type and member path, the union and intersection of the member names
// seen there.
type shape map[string]map[string]*keySets

type keySets struct{ union, every map[string]bool }

func (s shape) add(event string, v any, path string) {
	switch x := v.(type) {
	case map[string]any:
		if s[event] == nil {
			s[event] = map[string]*keySets{}
		}
		ks := s[event][path]
		if ks == nil {
			ks = &keySets{union: map[string]bool{}, every: map[string]bool{}}
			for k := range x {
				ks.every[k] = true
			}
			s[event][path] = ks
		}
		for k := range ks.every {
			if _, ok := x[k]; !ok {
				delete(ks.every, k)
			}
		}
		for k, child := range x {
			ks.union[k] = true
			if !dataMembers[k] {
				s.add(event, child, path+"/"+k)
			}
		}
	case []any:
		for _, child := range x {
			s.add(event, child, path+"[]")
		}
	}
}

func shapeOf(t *testing.T, lines []string) shape {
	t.Helper()
	s := shape{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		event, _ := m["Event"].(string)
		s.add(event, m, "")
	}
	return s
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEventShapeMatchesSpark(t *testing.T) {
	dir := conformanceDir(t)
	tests := []struct {
		version string
		log     string
	}{
		{"3.3.0", "local-1642039451826"},
		{"4.2.0", "eventlog_v2_local-1766844910796/events_1_local-1766844910796"},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			real := shapeOf(t, readLines(t, filepath.Join(dir, tc.log)))
			a := succeededApp()
			a.SparkVersion = tc.version
			var lines []string
			for _, l := range simulate(t, a).EventLog() {
				lines = append(lines, l.Text)
			}
			ours := shapeOf(t, lines)
			compared := 0
			for event, paths := range ours {
				realPaths, ok := real[event]
				if !ok {
					continue // the real log has no such event (a local-mode log has no removals)
				}
				compared++
				for path, ks := range paths {
					rk, ok := realPaths[path]
					if !ok {
						if !strings.Contains(path, "Task End Reason") {
							t.Errorf("%s: the real log has nothing at %q", event, path)
						}
						continue
					}
					for k := range ks.union {
						if !rk.union[k] {
							t.Errorf("%s%s: member %q is not in the real log (it has %v)", event, path, k, sorted(rk.union))
						}
					}
					for k := range rk.every {
						if !ks.every[k] && k != "Failure Reason" {
							t.Errorf("%s%s: the real log always has %q; the simulation does not", event, path, k)
						}
					}
				}
			}
			if compared < 12 {
				t.Errorf("only %d event types compared", compared)
			}
		})
	}
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
