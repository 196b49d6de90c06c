package kwoklogs

import (
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name       string
		entries    []logEntry
		containers []Container
		want       []logEntry
	}{
		{"first container", nil, []Container{{Name: "driver", File: "/d"}},
			[]logEntry{{Containers: []string{"driver"}, LogsFile: "/d"}}},
		{"another container keeps the first",
			[]logEntry{{Containers: []string{"driver"}, LogsFile: "/d"}},
			[]Container{{Name: "sidecar", File: "/s", PreviousFile: "/s.0"}},
			[]logEntry{{Containers: []string{"driver"}, LogsFile: "/d"}, {Containers: []string{"sidecar"}, LogsFile: "/s", PreviousLogsFile: "/s.0"}}},
		{"the same container is replaced",
			[]logEntry{{Containers: []string{"driver"}, LogsFile: "/d"}, {Containers: []string{"sidecar"}, LogsFile: "/s"}},
			[]Container{{Name: "driver", File: "/d2"}},
			[]logEntry{{Containers: []string{"sidecar"}, LogsFile: "/s"}, {Containers: []string{"driver"}, LogsFile: "/d2"}}},
		{"a shared entry loses only the container",
			[]logEntry{{Containers: []string{"a", "b"}, LogsFile: "/ab"}},
			[]Container{{Name: "a", File: "/a"}},
			[]logEntry{{Containers: []string{"b"}, LogsFile: "/ab"}, {Containers: []string{"a"}, LogsFile: "/a"}}},
		{"the default entry stays",
			[]logEntry{{LogsFile: "/all"}},
			[]Container{{Name: "a", File: "/a"}},
			[]logEntry{{LogsFile: "/all"}, {Containers: []string{"a"}, LogsFile: "/a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before []logEntry
			for _, e := range tc.entries {
				e.Containers = append([]string(nil), e.Containers...)
				before = append(before, e)
			}
			if got := merge(tc.entries, tc.containers); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if !reflect.DeepEqual(tc.entries, before) {
				t.Errorf("merge changed its input to %+v", tc.entries)
			}
		})
	}
}
