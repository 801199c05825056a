# serve-launch build and test entry points. `make test` is the test command CI runs.
GO      ?= go
BIN     := bin/serve-launch
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# urfave_cli_no_docs drops urfave/cli's man-page generator (blackfriday), whose
# package init alone costs about 0.5 ms of every haproxy start the shim makes.
TAGS    := urfave_cli_no_docs
# FUZZTIME is how long `make fuzz` runs each fuzz target.
FUZZTIME ?= 20s

.PHONY: build dist test vet fmt-check lint bench demo fuzz cover clean

# CGO_ENABLED=0 links statically: os/user and net otherwise pull in libc and
# the dynamic loader, about 1 ms and 1.3 MB of RSS on every shim start.
# -trimpath, as `make dist` builds: the packages compiled here are then the
# ones dist's test (internal/testing/dist) links, instead of a second build.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags $(TAGS) -ldflags "$(LDFLAGS)" -o bin/ ./cmd/serve-launch ./cmd/serve-launch-shim

# dist writes the release into dist/: both programs, static, for linux/amd64
# and linux/arm64 (a directory and a tarball each), the manylinux wheels
# that put them on a virtualenv's PATH, and SHA256SUMS. Offline: the Go
# modules must be in the module cache (go mod download). See scripts/dist.
dist:
	rm -rf dist
	GO=$(GO) $(GO) run ./scripts/dist -version '$(VERSION)' -out dist

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# STATICCHECK is the staticcheck release lint runs, fetched through the module
# proxy by `go run` (cached after the first run).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

# lint fails when go.mod or go.sum are not tidy, or staticcheck finds anything.
lint:
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) ./...

# test runs everything, including the end-to-end tests against the real
# haproxy: PATH's, or HAPROXY's (`make test HAPROXY=/path/to/haproxy` runs
# the whole suite on that binary; no test falls back to PATH then). A path
# is made absolute, since go test runs each package in its own directory.
HAPROXY ?=
test: fmt-check vet lint build
	@hap='$(if $(findstring /,$(HAPROXY)),$(abspath $(HAPROXY)),$(HAPROXY))'; \
	echo "test: haproxy $${hap:-on PATH}: $$("$${hap:-haproxy}" -v 2>&1 | head -n 1)"; \
	HAPROXY="$$hap" $(GO) test -count=1 -timeout 15m ./...

# bench measures serve-launch against haproxy side by side (Go benchmarks of
# the patch engine, render vs haproxy -c, start overhead, wrk through the shim,
# hot reload under load, memory) and writes BENCHMARKS.md. A few minutes.
bench: build
	$(GO) build -o bin/raysim ./internal/testing/raysim/cmd/raysim
	$(GO) build -o bin/benchrun ./internal/testing/bench/cmd/benchrun
	CGO_ENABLED=0 $(GO) build -o bin/execfloor ./internal/testing/bench/cmd/execfloor
	bin/benchrun -serve-launch $(BIN) -raysim bin/raysim -out BENCHMARKS.md

# demo runs emulated Ray Serve (raysim, not Ray) under serve-launch run with
# overrides.d, sends requests and shows the overrides in force; needs haproxy.
demo:
	GO=$(GO) ./scripts/demo.sh

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# cover measures coverage of the whole suite, the serve-launch, shim and
# raysim binaries the end-to-end tests run included (they are built with
# -cover and write into COVERDIR/bin), and prints it per package.
COVERDIR ?= $(CURDIR)/bin/cover
cover:
	rm -rf $(COVERDIR) && mkdir -p $(COVERDIR)/unit $(COVERDIR)/bin
	SERVE_LAUNCH_COVERDIR=$(COVERDIR)/bin $(GO) test -count=1 -timeout 15m -cover -coverpkg=./... ./... -args -test.gocoverdir=$(COVERDIR)/unit >/dev/null
	$(GO) tool covdata percent -i=$(COVERDIR)/unit,$(COVERDIR)/bin

clean:
	rm -rf bin dist
