#!/usr/bin/env bash
# Lints the module: gofmt, go mod tidy, go vet, and golangci-lint (built once from the Go module proxy into
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

# go.mod must say what the code imports: direct dependencies as direct, nothing unused.
if ! tidy=$(go mod tidy -diff 2>&1); then
  echo "go mod tidy would change go.mod or go.sum (run 'go mod tidy'):" >&2
  echo "$tidy" >&2
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
