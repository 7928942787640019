package main

import (
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// historyServices is the call history part of services.
type historyServices struct{}

// openHistory opens the call history and returns the proxy's recorder and a
// closer that flushes it. Placeholder until the history store lands: no recording.
func (s *services) openHistory(cfg *config.Config) (proxy.Recorder, func(), error) {
	return nil, func() {}, nil
}

// historyAPI serves /_gatehouse/api/history/*.
func (s *services) historyAPI(ctx *fasthttp.RequestCtx, path string) {
	adminError(ctx, fasthttp.StatusNotImplemented, "history is not available yet")
}

// runHistory is `gatehouse history ...`.
func runHistory(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "gatehouse history: not available yet")
	return 1
}
