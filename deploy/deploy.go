// Package deploy embeds the manifests that sparkplane's own tooling applies, so that the
// sandbox binary and the integration tests need no checkout at run time. Everything else under
// deploy/ (the Helm chart deploy/helm/sparkplane, deploy/kubernetes rendered from it,
// deploy/karpenter) is for operators and is only checked by the tests beside this file.
package deploy

import _ "embed"

// SandboxKWOKNodeClass is the node class named default that every sandbox NodePool uses.
//
//go:embed sandbox/kwoknodeclass.yaml
var SandboxKWOKNodeClass []byte

// SandboxNodePools are the sandbox's Karpenter NodePools, translated from the seed (see
// sandbox/SEED.md).
//
//go:embed sandbox/nodepools.yaml
var SandboxNodePools []byte

// SandboxSettings are the virtual cluster settings of the sandbox (the server's
// defaultSettings there): the pod policy allows the seed's NVMe local-dir hostPath,
// /pv-disks/local, and nothing else.
//
//go:embed sandbox/virtual-cluster-settings.json
var SandboxSettings []byte
