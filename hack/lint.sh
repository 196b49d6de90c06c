#!/usr/bin/env bash
# Lints the module: gofmt, go vet, and golangci-lint (built once from the Go module proxy into
# the same cache as the cluster parts, pinned by version).
set -euo pipefail
GOLANGCI_VERSION=v2.15.0

cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache=$(bash hack/tools.sh --dir)

unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change these files (run 'gofmt -w'):" >&2
  echo "$unformatted" >&2
  exit 1
fi

go vet ./...
(cd hack/tools/karpenter && go vet ./instancetypes)

lint=$cache/golangci-lint-$GOLANGCI_VERSION/golangci-lint
if [[ ! -x "$lint" ]]; then
  echo "building golangci-lint $GOLANGCI_VERSION into $(dirname "$lint") ..." >&2
  rm -rf "$(dirname "$lint").tmp"
  GOBIN="$(dirname "$lint").tmp" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_VERSION"
  rm -rf "$(dirname "$lint")"; mv "$(dirname "$lint").tmp" "$(dirname "$lint")"
fi
"$lint" run --timeout 15m ./...
