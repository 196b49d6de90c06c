#!/usr/bin/env bash
# Builds the cluster parts the sandbox and the integration tests run, and helm, from the Go module proxy,
# into a cache outside the checkout. Each part is pinned by version and built only when missing.
#
#   hack/tools.sh            build every missing part, then print the cache directory
#   hack/tools.sh --dir      print the cache directory only
#
# The cache lives at $SPARKPLANE_CACHE, or ${XDG_CACHE_HOME:-$HOME/.cache}/sparkplane.
set -euo pipefail

KUBE_VERSION=v1.34.4
ETCD_VERSION=v3.6.10
KWOK_VERSION=v0.8.0
VERSITYGW_VERSION=v1.8.0
KARPENTER_VERSION=v1.14.1
# helm renders and lints deploy/helm/sparkplane (its tests, and make manifests).
HELM_VERSION=v3.22.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SPARKPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparkplane}

if [[ "${1:-}" == "--dir" ]]; then
  echo "$cache"
  exit 0
fi
mkdir -p "$cache"

# part NAME VERSION FILE...: true when every FILE exists in the part's directory.
have() {
  local dir=$cache/$1-$2; shift 2
  local f
  for f in "$@"; do [[ -e "$dir/$f" ]] || return 1; done
}

# build NAME VERSION FUNC: runs FUNC with a fresh staging directory, then moves it into place,
# so an interrupted build never leaves a half-filled part behind.
build() {
  local name=$1 version=$2 fn=$3
  local dir=$cache/$name-$version stage=$cache/.$name-$version.tmp
  rm -rf "$stage"; mkdir -p "$stage"
  local start=$SECONDS
  echo "building $name $version into $dir ..." >&2
  "$fn" "$stage"
  rm -rf "$dir"; mv "$stage" "$dir"
  echo "built $name $version in $((SECONDS - start))s" >&2
}

build_kube() {
  local out=$1 ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34"
  local c
  for c in kube-apiserver kube-scheduler kube-controller-manager; do
    (cd "$here/tools/kube" && go build -trimpath -ldflags "$ldflags" -o "$out/$c" "k8s.io/kubernetes/cmd/$c")
  done
}

build_etcd() {
  (cd "$here/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$1/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

build_versitygw() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
}

build_karpenter() {
  local out=$1
  (cd "$here/tools/karpenter" && go build -trimpath -ldflags "-s -w" -o "$out/karpenter-kwok" sigs.k8s.io/karpenter/kwok)
  local src
  src=$(cd "$here/tools/karpenter" && go list -m -f '{{.Dir}}' sigs.k8s.io/karpenter)
  mkdir -p "$out/crds"
  cp "$src"/kwok/charts/crds/*.yaml "$src"/kwok/apis/crds/*.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
  # The shipped catalogue lists each type twice (Windows first) and uses AWS architecture
  # names, which match no Kubernetes node selector; keep one Linux entry per type, with
  # Kubernetes architecture names.
  (cd "$here/tools/karpenter" && go run ./instancetypes "$src/kwok/examples/aws_instance_types.json" "$out/instance-types.json")
}

build_helm() {
  GOBIN=$1 go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

have etcd "$ETCD_VERSION" etcd || build etcd "$ETCD_VERSION" build_etcd
have kwok "$KWOK_VERSION" kwok kwokctl || build kwok "$KWOK_VERSION" build_kwok
have versitygw "$VERSITYGW_VERSION" versitygw || build versitygw "$VERSITYGW_VERSION" build_versitygw
have karpenter-kwok "$KARPENTER_VERSION" karpenter-kwok instance-types.json || build karpenter-kwok "$KARPENTER_VERSION" build_karpenter
have kube "$KUBE_VERSION" kube-apiserver kube-scheduler kube-controller-manager || build kube "$KUBE_VERSION" build_kube
have helm "$HELM_VERSION" helm || build helm "$HELM_VERSION" build_helm

echo "$cache"
