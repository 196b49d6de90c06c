package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"

	"github.com/sparkplane/sparkplane/deploy"
	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
)

// InstallKarpenter applies the CRDs of Karpenter and its kwok provider, waits until they are
// served, then applies the sandbox's KWOKNodeClass and NodePools.
func InstallKarpenter(ctx context.Context, cfg *rest.Config, tools toolcache.Tools) error {
	files, err := filepath.Glob(filepath.Join(tools.KarpenterCRDs, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("karpenter CRDs: none in %s: %s", tools.KarpenterCRDs, toolcache.BuildHint)
	}
	sort.Strings(files)
	var names []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("karpenter CRDs: %w", err)
		}
		obj := &unstructured.Unstructured{}
		if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(&obj.Object); err != nil {
			return fmt.Errorf("karpenter CRD %s: %w", f, err)
		}
		names = append(names, obj.GetName())
		if err := Apply(ctx, cfg, raw); err != nil {
			return fmt.Errorf("karpenter CRDs: %w", err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := WaitForCRDs(wctx, cfg, names...); err != nil {
		return err
	}
	if err := Apply(ctx, cfg, deploy.SandboxKWOKNodeClass); err != nil {
		return err
	}
	return Apply(ctx, cfg, deploy.SandboxNodePools)
}

// KarpenterPorts are the loopback ports Karpenter serves metrics and health probes on.
type KarpenterPorts struct {
	Metrics, Health int
}

// KarpenterSpec is the process spec of Karpenter's kwok provider against kubeconfig.
func KarpenterSpec(tools toolcache.Tools, dir, kubeconfig string, ports KarpenterPorts) ProcessSpec {
	return ProcessSpec{
		Name: "karpenter",
		Dir:  dir,
		Path: tools.KarpenterKwok,
		Env: []string{
			"KUBECONFIG=" + kubeconfig,
			"DISABLE_LEADER_ELECTION=true",
			"METRICS_PORT=" + strconv.Itoa(ports.Metrics),
			"HEALTH_PROBE_PORT=" + strconv.Itoa(ports.Health),
			"INSTANCE_TYPES_FILE_PATH=" + tools.InstanceTypes,
			"LOG_LEVEL=info",
		},
	}
}

// WaitHTTP polls url until it answers 200 or ctx ends; alive, when set, fails the wait early
// once the process serving it has gone.
func WaitHTTP(ctx context.Context, url string, alive func() bool) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if alive != nil && !alive() {
			return fmt.Errorf("%s: the process serving it exited", url)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not become healthy: %w", url, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// KarpenterHealthURL is the readiness probe of a Karpenter serving health on port.
func KarpenterHealthURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
}
