# nuclio-apiserver — see README.md.
#   make run    start a local control plane with nuclio-apiserver (foreground; Ctrl-C stops it)
#   make test   everything that proves the project works: static checks, generated code, unit, e2e
SHELL := /usr/bin/env bash -o pipefail
GO ?= go
BIN := _output/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/nuclio-apiserver/nuclio-apiserver/pkg/version.Version=$(VERSION)
# Binaries of this repository; upstream ones come from `make tools`.
COMMANDS := nuclio-apiserver nuclio-webhook nuclio-controller nuclio-fetcher
E2E_TIMEOUT ?= 30m

.PHONY: all build tools run test verify verify-codegen verify-artifacts codegen artifacts unit e2e images verify-images bench bench-smoke clean

all: build

## build: compile this repository's binaries into _output/bin.
build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(addprefix ./cmd/,$(COMMANDS))
	$(GO) build -o $(BIN)/local-up ./hack/local-up

## tools: build the pinned upstream binaries (kube-apiserver, etcd, kwok, kubectl, ...) into the cache.
tools:
	hack/build-tools.sh

## run: the local control plane with nuclio-apiserver, on loopback, until Ctrl-C.
run: tools build
	$(BIN)/local-up --repo . --dir _output/local

## test: the one command that proves the project works. Tools come first: the chart tests and the
## artifact check need helm, the e2e suites the control-plane binaries.
test: tools build verify verify-codegen verify-artifacts unit e2e bench-smoke

verify:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## verify-artifacts: fail when artifacts/ differs from the chart rendered with the plain-manifests values.
verify-artifacts: tools
	hack/verify-artifacts.sh

## artifacts: regenerate artifacts/ from charts/nuclio-apiserver.
artifacts: tools
	hack/render-artifacts.sh

## verify-codegen: fail when generated code is stale.
verify-codegen:
	hack/verify-codegen.sh

## codegen: regenerate deepcopy, defaulters, conversions, OpenAPI, clientset, listers, informers, applyconfigurations.
codegen:
	hack/update-codegen.sh

unit:
	$(GO) test ./...

## images: OCI images (static, non-root, FROM scratch) of the four binaries into _output/images.
images:
	$(GO) run ./hack/images -out _output/images -version $(VERSION)

## verify-images: check the built images (config, user, entrypoint) and run each binary with --version.
verify-images:
	NUCLIO_IMAGES_DIR=$(CURDIR)/_output/images $(GO) test ./hack/images -run TestBuiltImages -count=1

## bench: CRD vs nuclio-apiserver, side by side (≤ 15 minutes); writes docs/benchmarks.md.
## BENCH_SHORT=1 runs the short smoke and writes _output/bench/benchmarks-short.md instead.
bench: tools build
	$(GO) run ./test/bench $(if $(BENCH_SHORT),--short)

bench-smoke: tools build
	$(MAKE) bench BENCH_SHORT=1

## e2e: the end-to-end suites against a real local control plane (test/e2e).
e2e: tools build
	NUCLIO_E2E_BIN_DIR=$(CURDIR)/$(BIN) $(GO) test ./test/e2e/... -count=1 -timeout $(E2E_TIMEOUT) -v

clean:
	rm -rf _output
