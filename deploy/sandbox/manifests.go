// Package sandbox holds the Kubernetes manifests the sandbox and the integration tests apply
// to their kwok clusters: the KWOKNodeClass and the NodePools translated from the seed (see
// SEED.md). They are embedded so that the binary needs no checkout at run time.
package sandbox

import _ "embed"

// KWOKNodeClass is the node class named default that every sandbox NodePool uses.
//
//go:embed kwoknodeclass.yaml
var KWOKNodeClass []byte

// NodePools are the sandbox's Karpenter NodePools.
//
//go:embed nodepools.yaml
var NodePools []byte
