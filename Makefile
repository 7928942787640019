# Gatehouse. `make run` starts the desktop app; `make test` runs every test.
GO      ?= go
BIN     ?= gatehouse
VERSION ?= $(shell sed -n 's/^ *Version = "\(.*\)"/\1/p' FyneApp.toml)
COMMIT  ?= $(shell .ci/commit)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# no_emoji leaves out Fyne's 4 MB colour emoji font, which every text style
# parsed again (~20 MB of the idle app); emoji still draw from a system font.
TAGS    ?= no_emoji
FUZZTIME ?= 10m
FUZZ    ?= .

.PHONY: run serve build test test-unit test-integration test-windows vet-darwin bench soak fuzz deps deps-test package screenshots clean

## run: install what a fresh Debian/Ubuntu machine lacks, build, start the desktop app
run: deps build
	./$(BIN)

## serve: the headless proxy on 127.0.0.1:8765
serve: build
	./$(BIN) serve

## build: the one binary
build:
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) .

deps:
	@.ci/deps

deps-test:
	@.ci/deps --test

## test: install what a fresh Debian/Ubuntu machine lacks (X11 headers for
## go vet, Xvfb, D-Bus, a keyring), then go vet + go test -race ./..., then the
## integration tests that need a D-Bus session (real keychain, window, tray)
test: deps-test test-unit test-integration

# The unit tests get a D-Bus address that leads nowhere: without one, godbus
# autolaunches a session bus (dbus-launch) in each test process that touches
# the keychain, and those buses and their keyring daemons outlive the tests
# (180 of them after a day here, until inotify ran out). The tests that need a
# real bus and keyring run in test-integration's own session.
test-unit: vet-darwin
	$(GO) vet ./...
	DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/gatehouse-unit-tests \
	  $(GO) test -tags "$(TAGS)" -race -count=1 -timeout 15m ./...

test-integration:
	@.ci/integration

## vet-darwin: go vet for macOS of every package that needs no cgo (all but
## the Fyne ones); TestCgoFreeForDarwin keeps the list honest.
## It compiles every dependency for darwin (minutes on a cold cache).
vet-darwin:
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet -tags "$(TAGS)" $$(GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 \
	  $(GO) list -e -tags "$(TAGS)" -f '$(CGO_FREE)' ./...)

# CGO_FREE prints a package that loads for the target and does not use Fyne
# (whose widgets need cgo on macOS).
CGO_FREE = {{$$f := false}}{{range .Deps}}{{if eq . "fyne.io/fyne/v2"}}{{$$f = true}}{{end}}{{end}}{{if not (or .Error .DepsErrors $$f)}}{{.ImportPath}}{{end}}

## test-windows: cross-build the .exe and run it under Wine (CI runs it after
## make test; the cold mingw build takes minutes, so make test leaves it out)
test-windows:
	@.ci/windows-smoke

## bench: proxy overhead (direct vs bare forwarder vs Gatehouse), history, translation;
## BenchmarkOutOfProcess runs upstream, load and serve as separate processes (issue 12)
bench:
	$(GO) test -tags "$(TAGS)" -run '^$$' -bench . -benchmem -benchtime 2s -timeout 30m . ./proxy/ ./store/ ./proxy/codec/

## soak: (1) a minute of full-rate load on serve with max_size_mb = 64:
## history.db and resident memory stay bounded (issue 17; CI runs 10 s);
## (2) ten minutes of 1,000 streams + 64 plain clients: goroutines, open files,
## heap and RSS stay flat, no client error, no history drop (issue 15; CI
## runs a minute). About 13 minutes in all; not part of `make test`.
soak:
	GATEHOUSE_SOAK=60s GATEHOUSE_SOAK_LEAKS=10m $(GO) test -tags "$(TAGS)" \
	  -run '^(TestSoakHistoryStaysBounded|TestSoakLeaks)$$' -count=1 -v -timeout 25m .

## soak-faults: a minute of c=64 mixed load on serve while its first provider
## resets, 502s, hangs and cuts calls (issue 15 §3; CI runs a 15 s version)
.PHONY: soak-faults
soak-faults:
	GATEHOUSE_FAULTS=60s $(GO) test -tags "$(TAGS)" -run '^TestFaultsAtLoad$$' -count=1 -v -timeout 10m .

## fuzz: every fuzz target (HTTP input, codec, SSE, config edits, history
## bodies) for FUZZTIME each (default 10m); FUZZ=regexp picks targets,
## FUZZPAR=n the workers (default one per core)
fuzz:
	@FUZZTIME='$(FUZZTIME)' FUZZ='$(FUZZ)' FUZZPAR='$(FUZZPAR)' TAGS='$(TAGS)' .ci/fuzz

package:
	@.ci/package

screenshots:
	@.ci/screenshots

clean:
	rm -f $(BIN)
