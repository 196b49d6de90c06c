// Command instancetypes derives the instance-type catalogue the sandbox gives Karpenter's kwok
// provider from the AWS catalogue that ships with it. The shipped file lists every type twice
// (a Windows entry first) and uses AWS architecture names (x86_64), which no Kubernetes
// `kubernetes.io/arch` selector matches. The derived file keeps one Linux entry per type and
// uses Kubernetes architecture names (amd64, arm64, 386).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

var archNames = map[string]string{"x86_64": "amd64", "i386": "386", "arm64": "arm64"}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: instancetypes IN.json OUT.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "instancetypes:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var types []map[string]any
	if err := json.Unmarshal(raw, &types); err != nil {
		return fmt.Errorf("parse %s: %w", in, err)
	}
	seen := map[string]bool{}
	kept := make([]map[string]any, 0, len(types)/2)
	for _, t := range types {
		name, _ := t["name"].(string)
		oses, _ := t["operatingSystems"].([]any)
		if seen[name] || !slices.Contains(oses, any("linux")) {
			continue
		}
		arch, _ := t["architecture"].(string)
		k8sArch, ok := archNames[arch]
		if !ok {
			return fmt.Errorf("instance type %s: unknown architecture %q", name, arch)
		}
		t["architecture"] = k8sArch
		t["operatingSystems"] = []string{"linux"}
		seen[name] = true
		kept = append(kept, t)
	}
	data, err := json.MarshalIndent(kept, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "instancetypes: kept %d of %d entries\n", len(kept), len(types))
	return nil
}
