# The targets a newcomer needs. `make sandbox` and `make test` are the README's two set-up commands.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/sparkplane
# The sandbox and its driver emulator are development tooling, built as a binary of their own.
SANDBOX := bin/sparkplane-sandbox
# Integration tests share one cluster per package; -p 1 keeps two clusters from competing for
# the 2 cores CI has. Tests keep what they save for people to look at (the console's browser
# tests: screenshots) in .artifacts/_artifacts/ (go test -artifacts; the test binary needs the
# directory to exist).
ARTIFACTS := $(CURDIR)/.artifacts
TEST_FLAGS ?= -race -count=1 -timeout 45m -p 1 -artifacts -outputdir $(ARTIFACTS)
# What `sparkplane --version` and the image's labels say (internal/buildinfo).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/sparkplane/sparkplane/internal/buildinfo.Version=$(VERSION) -X github.com/sparkplane/sparkplane/internal/buildinfo.Revision=$(REVISION)
# The platforms `make image` builds, as one image index.
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64

.PHONY: all build image manifests tools postgres chromium lint test test-unit bench sandbox sandbox-down sandbox-status clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sparkplane
	$(GO) build -trimpath -o $(SANDBOX) ./cmd/sparkplane-sandbox

## image: sparkplane's OCI image without a container engine, reproducibly (same commit, same
## digest), as an OCI image layout in bin/image; push it with
## `$(GO) run ./cmd/sparkplane-image push REGISTRY/REPOSITORY:TAG` (README: "Building and pushing the image").
image:
	$(GO) run ./cmd/sparkplane-image build --out bin/image --platforms $(IMAGE_PLATFORMS) --version $(VERSION)

## manifests: regenerate deploy/kubernetes/sparkplane.yaml from the Helm chart's default values.
manifests: tools
	bash hack/manifests.sh

## tools: build the pinned cluster parts (etcd, kube-*, kwok, versitygw, Karpenter) and helm when missing.
tools:
	bash hack/tools.sh

lint:
	bash hack/lint.sh

## postgres: install Debian's PostgreSQL 15 when missing (the store's tests run a throwaway server).
postgres:
	bash hack/postgres.sh

## chromium: install Debian's Chromium when missing (the console's browser tests drive it headless).
chromium:
	bash hack/chromium.sh

## test: lint, then every test (unit and integration against a real control plane).
test: lint tools postgres chromium
	rm -rf $(ARTIFACTS) && mkdir -p $(ARTIFACTS)
	$(GO) test $(TEST_FLAGS) ./...

## test-unit: the packages that need no cluster, fast.
test-unit:
	$(GO) test -count=1 -short ./...

## bench: the benchmarks the README reports, each with its baseline measured in the same run.
bench: tools build
	bash hack/bench.sh

## sandbox: bring the sandbox up, run the seed's example job through the real aws CLI, and the
## same run from the TPC-DS job template (DEMO_TEMPLATE_RUN=1).
sandbox: tools build
	$(SANDBOX) up
	DEMO_TEMPLATE_RUN=1 bash hack/sandbox-demo.sh

sandbox-down:
	$(SANDBOX) down

sandbox-status:
	$(SANDBOX) status

clean:
	rm -rf bin .artifacts
