package cli

import (
	"strings"
	"testing"
)

// TestSettingsCommands puts, reads and deletes a virtual cluster's settings on the real
// server, and checks that a bad document is refused naming the member.
func TestSettingsCommands(t *testing.T) {
	startServer(t)
	vc := createVC(t)

	got := runJSON(t, "virtual-clusters", "get-settings", "--id", vc)
	if got["virtualClusterId"] != vc || got["source"] != "serverDefault" || got["settings"] == nil {
		t.Fatalf("get-settings before any put = %v", got)
	}

	file := writeFile(t, "settings.json", `{
  "maxConcurrentJobRuns": 2,
  "podPolicy": {"allowedHostPaths": ["/mnt/data"], "allowRoot": true},
  "jobDefaults": {"sparkConf": {"spark.executor.memory": "4g"}}
}`)
	put := runJSON(t, "virtual-clusters", "put-settings", "--id", vc, "--settings", "file://"+file)
	s := put["settings"].(map[string]any)
	if put["source"] != "virtualCluster" || s["maxConcurrentJobRuns"] != 2.0 ||
		s["podPolicy"].(map[string]any)["allowedHostPaths"].([]any)[0] != "/mnt/data" ||
		s["jobDefaults"].(map[string]any)["sparkConf"].(map[string]any)["spark.executor.memory"] != "4g" {
		t.Fatalf("put-settings = %v", put)
	}

	// The table shows each setting under its dotted path.
	out, _, err := execute(t, "virtual-clusters", "get-settings", "--id", vc)
	for _, want := range []string{"virtualClusterId " + vc, "settings.maxConcurrentJobRuns 2", "settings.podPolicy.allowedHostPaths /mnt/data",
		"settings.podPolicy.allowRoot true", "settings.jobDefaults.sparkConf.spark.executor.memory 4g", "source virtualCluster"} {
		if err != nil || !strings.Contains(normalizeSpaces(out), want+"\n") {
			t.Errorf("get-settings table lacks %q:\n%s\n%v", want, out, err)
		}
	}

	// Bad documents are refused by the server, naming the member, and change nothing.
	for _, tc := range []struct{ doc, want string }{
		{`{"podPolicy": {"allowedHostPaths": ["mnt/data"]}}`, `ValidationException: settings.podPolicy.allowedHostPaths[0]: must be an absolute path, got "mnt/data"`},
		{`{"maxConcurrentJobRun": 3}`, `ValidationException: settings: unknown member "maxConcurrentJobRun"`},
		{`{"maxConcurrentJobRuns": "3"}`, `ValidationException: settings.maxConcurrentJobRuns: must be a JSON number`},
		{`{"maxConcurrentJobRuns": -1}`, `ValidationException: settings.maxConcurrentJobRuns: must be between 0 (no limit)`},
	} {
		wantError(t, tc.want, "virtual-clusters", "put-settings", "--id", vc, "--settings", tc.doc)
	}
	if got := runJSON(t, "virtual-clusters", "get-settings", "--id", vc); got["settings"].(map[string]any)["maxConcurrentJobRuns"] != 2.0 {
		t.Errorf("settings after refused puts = %v", got)
	}

	// An inline document replaces the whole of the settings.
	put = runJSON(t, "virtual-clusters", "put-settings", "--id", vc, "--settings", `{"maxConcurrentJobRuns": 5}`)
	if s := put["settings"].(map[string]any); s["maxConcurrentJobRuns"] != 5.0 || s["jobDefaults"] != nil {
		t.Errorf("inline put-settings = %v", put)
	}

	del := runJSON(t, "virtual-clusters", "delete-settings", "--id", vc)
	if del["source"] != "serverDefault" || del["virtualClusterId"] != vc {
		t.Errorf("delete-settings = %v", del)
	}
	if got := runJSON(t, "virtual-clusters", "get-settings", "--id", vc); got["source"] != "serverDefault" {
		t.Errorf("get-settings after delete = %v", got)
	}

	wantError(t, "ResourceNotFoundException: ", "virtual-clusters", "put-settings", "--id", "0000000000000000000000000", "--settings", `{}`)
}

// TestSettingsBadInput checks what is refused before any request is sent.
func TestSettingsBadInput(t *testing.T) {
	isolateEnv(t)
	closed := "http://127.0.0.1:1"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"get without id", []string{"get-settings"}, `required flag(s) "id" not set`},
		{"put without settings", []string{"put-settings", "--id", "v"}, `required flag(s) "settings" not set`},
		{"syntax", []string{"put-settings", "--id", "v", "--settings", `{"maxConcurrentJobRuns": }`}, "--settings: invalid JSON at byte"},
		{"not an object", []string{"put-settings", "--id", "v", "--settings", `[1]`}, "--settings: want an object, got a list"},
		{"missing file", []string{"put-settings", "--id", "v", "--settings", "file://does-not-exist.json"}, "--settings: read file://does-not-exist.json"},
		{"empty", []string{"put-settings", "--id", "v", "--settings", ""}, "--settings: value is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(t, append(append([]string{"virtual-clusters"}, tt.args...), "--endpoint-url", closed)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
