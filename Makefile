# mvorch: build, test, demo. `make test` and `make demo` install what they need.
GO      ?= go
BIN     := bin/mvorch
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build deps test vet demo lab-down bench clean graph-pictures

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mvorch

deps:
	testbed/install-deps

vet:
	$(GO) vet ./...

# Every test, lab tests included (they need root; under CI=true they must run).
# -p 1: one package at a time, so that two labs never share the 2 cores.
test: deps vet
	$(GO) test -count=1 -p 1 -timeout 80m ./...

# Bring up a 2-host lab and run mvorch on it; the lab stays up afterwards.
demo: deps build
	testbed/demo

lab-down:
	testbed/lab down

# Time mvorch against the article's commands over plain ssh on 2, 10 and 50 lab
# hosts (a lab of its own, mvlab-bench, torn down at the end); prints the table
# and writes it to bench/results.md. About 35 minutes on a 2-core machine.
bench: deps build
	bench/run

# The README's pictures: the article's 4.2 as mvorch graph draws it (and with a
# saved verify result), rendered to PNG with rsvg-convert (librsvg2-bin, make deps).
graph-pictures: build
	$(BIN) graph -o docs/graph-4.2.svg inventory.toml.example
	$(BIN) graph --from-verify graph/testdata/verify-4.2-fail-leak.json -o docs/graph-4.2-verify.svg inventory.toml.example
	rsvg-convert -o docs/graph-4.2.png docs/graph-4.2.svg
	rsvg-convert -o docs/graph-4.2-verify.png docs/graph-4.2-verify.svg

clean:
	rm -rf bin
