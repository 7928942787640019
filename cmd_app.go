package main

import (
	"io"

	"github.com/valyala/fasthttp"
)

// appServices is the desktop app's part of services.
type appServices struct{}

// appCircuit tells the app a provider's circuit opened or closed.
func (s *services) appCircuit(provider string, open bool) {}

// appAPI serves /_gatehouse/api/app/* (e.g. a second launch asking to show the window).
func (s *services) appAPI(ctx *fasthttp.RequestCtx, path string) {
	adminError(ctx, fasthttp.StatusNotFound, "the desktop app is not running")
}

// runApp is `gatehouse` with no command: the desktop app. Until the UI lands it
// runs the headless proxy.
func runApp(args []string, stdout, stderr io.Writer) int {
	return runServe(args, stdout, stderr)
}
