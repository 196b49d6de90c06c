package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/liveui"
	"github.com/sparkplane/sparkplane/internal/liveui/portforward"
)

// TestLiveDialer checks which way sparkUI.liveAccess reaches a provider's drivers.
func TestLiveDialer(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	inPod := func(k string) string {
		if k == "KUBERNETES_SERVICE_HOST" {
			return "10.96.0.1"
		}
		return ""
	}
	outside := func(string) string { return "" }
	byKubeconfig := config.ContainerProvider{ID: "other", Kubeconfig: kubeconfig}
	inCluster := config.ContainerProvider{ID: "here"}
	for _, tc := range []struct {
		name     string
		mode     string
		provider config.ContainerProvider
		getenv   func(string) string
		direct   bool
	}{
		{"auto in a pod, in-cluster provider", "", inCluster, inPod, true},
		{"auto in a pod, provider by kubeconfig", config.LiveAccessAuto, byKubeconfig, inPod, false},
		{"auto outside a cluster", config.LiveAccessAuto, byKubeconfig, outside, false},
		{"direct", config.LiveAccessDirect, byKubeconfig, outside, true},
		{"portforward in a pod", config.LiveAccessPortForward, byKubeconfig, inPod, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := liveDialer(tc.mode, tc.provider, tc.getenv)
			if err != nil {
				t.Fatal(err)
			}
			_, direct := d.(*liveui.Direct)
			_, forwarded := d.(*portforward.Dialer)
			if direct != tc.direct || forwarded == tc.direct {
				t.Errorf("dialer %T, want direct %v", d, tc.direct)
			}
		})
	}
	// Port-forward needs the provider's API server: without in-cluster credentials, the
	// in-cluster provider cannot be reached that way, and says so.
	if _, err := liveDialer(config.LiveAccessPortForward, inCluster, outside); err == nil {
		t.Error("port-forward to an in-cluster provider outside a cluster: no error")
	}
}
