package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// The settings commands read and write a virtual cluster's sparkplane settings (queue limit,
// pod policy, job defaults) through the /virtualclusters/{id}/settings extension route.

// Help of the settings flags.
var (
	flagVCID     = [2]string{"id", "ID of the virtual cluster (required)"}
	flagSettings = [2]string{"settings", "the settings document as JSON, or file://path to a file holding it (required)"}
)

// withSettings adds put-settings, get-settings and delete-settings to the virtual-clusters
// command group.
func (a *app) withSettings(vcs *cobra.Command) *cobra.Command {
	vcs.AddCommand(a.putSettingsCmd(), a.getSettingsCmd(), a.deleteSettingsCmd())
	return vcs
}

func settingsPath(id string) string { return "/virtualclusters/" + url.PathEscape(id) + "/settings" }

func (a *app) putSettingsCmd() *cobra.Command {
	c := a.extensionCmd("put-settings", "Replace a virtual cluster's settings: queue limit, pod policy, job defaults (sparkplane extension)",
		`  sparkplane virtual-clusters put-settings --id abc123 --settings file://settings.json
  sparkplane virtual-clusters put-settings --id abc123 --settings '{"maxConcurrentJobRuns": 2}'`,
		[][2]string{flagVCID, flagSettings},
		func(v map[string]string) (string, string, []byte, error) {
			doc, err := loadParam(v["settings"])
			if err != nil {
				return "", "", nil, fmt.Errorf("--settings: %w", err)
			}
			doc = strings.TrimSpace(doc)
			if doc == "" {
				return "", "", nil, fmt.Errorf("--settings: value is empty")
			}
			// Only the syntax is checked here; the server reads the document strictly and
			// names the member of any mistake in it.
			parsed, err := decodeJSON(doc)
			if err != nil {
				return "", "", nil, fmt.Errorf("--settings: %w", err)
			}
			if _, ok := parsed.(map[string]any); !ok {
				return "", "", nil, fmt.Errorf("--settings: want an object, got %s", describeJSON(parsed))
			}
			return http.MethodPut, settingsPath(v["id"]), []byte(doc), nil
		}, showAnswer)
	c.Long = `Replace a virtual cluster's settings with a document such as

  {
    "maxConcurrentJobRuns": 2,
    "podPolicy": {"allowedHostPaths": ["/mnt/data"], "allowedCapabilities": ["NET_BIND_SERVICE"]},
    "jobDefaults": {"sparkConf": {"spark.executor.memory": "4g"}}
  }

maxConcurrentJobRuns bounds the job runs that hold the cluster at once (others wait PENDING,
first in first out; 0 means no limit). podPolicy lists the node-level privileges job pods may
ask for (allowedHostPaths, allowedCapabilities, allowRoot, allowPrivileged,
allowHostNamespaces; none by default). jobDefaults are Spark settings below each job's own
(sparkConf, driverPodTemplate, executorPodTemplate). The whole document is replaced: members
left out take their defaults. Prints the settings now in force.`
	return c
}

func (a *app) getSettingsCmd() *cobra.Command {
	return a.extensionCmd("get-settings", "Show the settings in force on a virtual cluster and where they come from (sparkplane extension)",
		"  sparkplane virtual-clusters get-settings --id abc123 -o json", [][2]string{flagVCID},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodGet, settingsPath(v["id"]), nil, nil
		}, showAnswer)
}

func (a *app) deleteSettingsCmd() *cobra.Command {
	return a.extensionCmd("delete-settings", "Remove a virtual cluster's settings so that the server's defaults apply (sparkplane extension)",
		"  sparkplane virtual-clusters delete-settings --id abc123", [][2]string{flagVCID},
		func(v map[string]string) (string, string, []byte, error) {
			return http.MethodDelete, settingsPath(v["id"]), nil, nil
		}, showAnswer)
}
