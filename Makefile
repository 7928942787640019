# Gatehouse. `make run` starts the desktop app; `make test` runs every test.
GO      ?= go
BIN     ?= gatehouse
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# no_emoji leaves out Fyne's 4 MB colour emoji font, which every text style
# parsed again (~20 MB of the idle app); emoji still draw from a system font.
TAGS    ?= no_emoji

.PHONY: run serve build test test-unit test-integration bench deps deps-test package screenshots clean

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

test-unit:
	$(GO) vet ./...
	$(GO) test -tags "$(TAGS)" -race -count=1 -timeout 15m ./...

test-integration:
	@.ci/integration

## bench: proxy overhead (direct vs bare forwarder vs Gatehouse), history, translation
bench:
	$(GO) test -tags "$(TAGS)" -run '^$$' -bench . -benchmem -benchtime 2s -timeout 30m . ./proxy/ ./store/ ./proxy/codec/

package:
	@.ci/package

screenshots:
	@.ci/screenshots

clean:
	rm -f $(BIN)
