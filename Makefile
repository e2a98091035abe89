# Build and test entry points. `make test` is THE test command: the README
# and .ci/run both use it, so a green `make test` locally means a green CI.
#
# Go tools run pinned with `go run module@version` (staticcheck), so a fresh
# machine with Go needs nothing installed for them. Debian tools (promtool,
# prometheus, alertmanager, systemd-analyze, chromium) are checked first:
# `make deps` installs them when root, or prints the one apt-get line to run.
# No check is ever skipped silently.

GO          ?= go
BIN         ?= proxmox-backup-exporter
FUZZTIME    ?= 5s
FUZZ_BUDGET ?= 120
STATICCHECK_VERSION ?= v0.8.2
NFPM_VERSION        ?= v2.45.2

# Version information for github.com/prometheus/common/version, shown by
# --version and the proxmox_backup_exporter_build_info metric. The Docker
# build passes these explicitly (it has no .git).
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)

VERSION_PKG := github.com/prometheus/common/version
LDFLAGS := -s -w \
	-X $(VERSION_PKG).Version=$(VERSION) \
	-X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) \
	-X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

# Every Go file of both modules (tracked or not), but not test fixtures.
GOFILES = $$(find . -type f -name '*.go' -not -path './.cache/*' -not -path '*/testdata/*')

# staticcheck pinned, fetched through the Go module proxy on first use.
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# Debian packages whose commands `make test` runs, as command:package.
DEB_TOOLS := promtool:prometheus prometheus:prometheus prometheus-alertmanager:prometheus-alertmanager amtool:prometheus-alertmanager systemd-analyze:systemd chromium:chromium lintian:lintian dpkg-deb:dpkg

# The Debian package (make deb): nfpm pinned, run with `go run` like
# staticcheck and never a dependency of go.mod.
NFPM           := $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
DEB_ARCHS      ?= amd64 arm64
DEB_DIR        ?= dist
DEB_MAINTAINER ?= proxmox-backup-exporter maintainers <proxmox-backup-exporter@users.noreply.github.com>
DEB_ENV         = NFPM='$(NFPM)' DEB_DIR='$(DEB_DIR)' DEB_MAINTAINER='$(DEB_MAINTAINER)'

.PHONY: all
all: build

.PHONY: help
help:
	@echo "make build               static binary ./$(BIN) with version information"
	@echo "make test                everything CI runs: deps, self-contained, gofmt, vet, staticcheck, go test -race, fuzz, mixin, examples, e2e, docker-build-check, deb-check"
	@echo "make deps                install the Debian tools make test needs (root), or print the apt-get line"
	@echo "make demo                run the exporter against the built-in emulated homelab"
	@echo "make bench               Go benchmarks with -benchmem"
	@echo "make fmt                 gofmt -w"
	@echo "make lint                gofmt check, go vet, staticcheck"
	@echo "make fuzz                every Fuzz* target, FUZZTIME=$(FUZZTIME) each within FUZZ_BUDGET=$(FUZZ_BUDGET)s"
	@echo "make mixin               regenerate-and-compare the mixin, promtool check/test rules"
	@echo "make examples            promtool/amtool/systemd-analyze on examples/"
	@echo "make e2e                 end-to-end tests (build tag e2e) against a real Prometheus"
	@echo "make docker-build-check  the Dockerfile's build command; binary is static and runs as non-root"
	@echo "make deb                 $(DEB_DIR)/proxmox-backup-exporter_<version>_<arch>.deb for $(DEB_ARCHS) (nfpm $(NFPM_VERSION))"
	@echo "make deb-check           make deb, lintian, contents and permissions; as root: install, run, purge"

# The same build the Dockerfile runs (it calls `make build`).
.PHONY: build
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

.PHONY: demo
demo:
	$(GO) run . --demo

.PHONY: bench
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

.PHONY: fmt
fmt:
	gofmt -w $(GOFILES)

.PHONY: fmt-check
fmt-check:
	@echo '==> gofmt -l'
	@out="$$(gofmt -l $(GOFILES))"; \
	if [ -n "$$out" ]; then echo "files need gofmt (run make fmt):"; echo "$$out"; exit 1; fi

.PHONY: vet
vet:
	@echo '==> go vet ./...'
	$(GO) vet ./...
	@if [ -f tools/go.mod ]; then echo '==> (tools) go vet ./...'; cd tools && $(GO) vet ./...; fi

.PHONY: staticcheck
staticcheck:
	@echo '==> staticcheck@$(STATICCHECK_VERSION) ./...'
	$(STATICCHECK) ./...
	@echo '==> (tools) staticcheck@$(STATICCHECK_VERSION) ./...'
	cd tools && $(STATICCHECK) ./...

# The Debian tools `make test` needs: installed with apt-get when root and
# missing, otherwise the exact command to run. (.ci/run calls this too.)
.PHONY: deps
deps:
	@DEB_TOOLS='$(DEB_TOOLS)' bash .ci/deps

.PHONY: lint
lint: fmt-check vet staticcheck

.PHONY: unit
unit:
	@echo '==> go test -race ./...'
	$(GO) test -race -count=1 ./...

# Every fuzz target of the main module for FUZZTIME each, within about
# FUZZ_BUDGET seconds in all (.ci/fuzz says how, and how it tells Go's
# fuzzing-coordinator deadline race from a finding).
.PHONY: fuzz
fuzz:
	@GO='$(GO)' bash .ci/fuzz '$(FUZZTIME)' '$(FUZZ_BUDGET)'

# The monitoring mixin: regenerate and compare the committed files, the
# tools module's own tests (mixtool-style lint), then promtool.
.PHONY: mixin
mixin:
	@set -e; \
	echo '==> (tools) go run ./cmd/mixin -check mixins'; (cd tools && $(GO) run ./cmd/mixin -check $(CURDIR)/mixins); \
	echo '==> (tools) go test ./...'; (cd tools && $(GO) test -count=1 ./...); \
	echo '==> promtool check rules mixins/prometheus_*.yaml'; promtool check rules mixins/prometheus_*.yaml; \
	if ls mixins/tests/*.yaml >/dev/null 2>&1; then \
		echo '==> promtool test rules mixins/tests/*.yaml'; promtool test rules mixins/tests/*.yaml; \
	fi

# End-to-end tests carry the build tag e2e and a name matching E2E (they
# need the prometheus and prometheus-alertmanager binaries and take a
# while); -run keeps the package's ordinary tests, which `make unit` ran,
# from running twice.
.PHONY: e2e
e2e:
	@pkgs="$$(grep -rlE --include='*_test.go' '^//go:build .*\be2e\b' --exclude-dir=tools --exclude-dir=.cache . | xargs -r -n1 dirname | sort -u)"; \
	if [ -z "$$pkgs" ]; then echo 'no e2e tests (build tag e2e) found'; exit 1; fi; \
	echo "==> go test -tags e2e -run E2E -count=1 -v $$pkgs"; \
	$(GO) test -tags e2e -run E2E -count=1 -v -timeout 10m $$pkgs

# The deployment examples: Prometheus and Alertmanager configs parse, and
# the systemd unit has no unknown directives. (The example exporter configs
# are loaded by collector/config's TestExamples.)
.PHONY: examples
examples:
	@set -e; \
	echo '==> promtool check config --syntax-only examples/prometheus.yml examples/prometheus-estates.yml'; promtool check config --syntax-only examples/prometheus.yml examples/prometheus-estates.yml; \
	echo '==> amtool check-config examples/alertmanager.yml'; amtool check-config examples/alertmanager.yml; \
	echo '==> systemd-analyze verify examples/systemd/proxmox-backup-exporter.service'; \
	d="$$(mktemp -d)"; trap 'rm -rf "$$d"' EXIT; \
	sed 's|^ExecStart=/usr/local/bin/proxmox-backup-exporter|ExecStart=/bin/true|' examples/systemd/proxmox-backup-exporter.service > "$$d/proxmox-backup-exporter.service"; \
	out="$$(systemd-analyze verify "$$d/proxmox-backup-exporter.service" 2>&1)" || { echo "$$out"; exit 1; }; \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

# A clone from a public host has nothing beside it: no tracked file may
# reach outside the repository (CI lays other folders beside its clone,
# which would hide such a dependency).
.PHONY: self-contained
self-contained:
	@echo '==> no tracked file reaches outside the repository'
	@bash .ci/self-contained

.PHONY: docker-build-check
docker-build-check:
	@echo '==> docker-build-check'
	@bash .ci/docker-build-check

# The Debian package: packaging/deb/ holds the nfpm config, the unit, the
# conffile and the maintainer scripts; packaging/deb/build says how the
# version is derived.
.PHONY: deb
deb:
	@$(DEB_ENV) bash packaging/deb/build $(DEB_ARCHS)

.PHONY: deb-check
deb-check:
	@echo '==> deb-check'
	@$(DEB_ENV) DEB_ARCHS='$(DEB_ARCHS)' bash .ci/deb-check

.PHONY: test
test: deps self-contained fmt-check vet staticcheck unit fuzz mixin examples e2e docker-build-check deb-check
	@echo '==> make test: all checks passed'

.PHONY: clean
clean:
	rm -f $(BIN) $(DEB_DIR)/*.deb
