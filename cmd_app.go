package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui"
)

// appID is the desktop app's unique ID (preferences, notifications, the tray).
const appID = "io.github.gatehouse.gatehouse"

// appServices is the desktop app's part of services: the running app, if any.
type appServices struct {
	app atomic.Pointer[ui.App]
}

// appCircuit tells the app a provider's circuit opened or closed.
func (s *services) appCircuit(provider string, open bool) {
	if a := s.app.Load(); a != nil {
		a.CircuitChanged(provider, open)
	}
}

// desktopMode is set while this process runs the desktop app: its admin API
// may answer before the window exists, and says "starting" rather than "serve".
var desktopMode atomic.Bool

// appAPI serves /_gatehouse/api/app/*: "show" brings the window forward (a
// second launch with the same data folder asks for it).
func (s *services) appAPI(ctx *fasthttp.RequestCtx, path string) {
	a := s.app.Load()
	if a == nil && desktopMode.Load() {
		adminError(ctx, fasthttp.StatusServiceUnavailable, "the desktop app is starting")
		return
	}
	if a == nil {
		adminError(ctx, fasthttp.StatusNotFound, "the desktop app is not running (this is gatehouse serve)")
		return
	}
	switch {
	case path == "show" && ctx.IsPost():
		// Optional body {"tab":"History","call":"ID"}: what to show.
		var req struct{ Tab, Call string }
		if body := ctx.PostBody(); len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				adminError(ctx, fasthttp.StatusBadRequest, "show: "+err.Error())
				return
			}
		}
		a.Reveal(req.Tab, req.Call)
		ctx.SetBodyString(`{"shown":true}`)
	default:
		adminError(ctx, fasthttp.StatusNotFound, "no app endpoint "+path)
	}
}

// runApp is `gatehouse` with no command: the proxy, the tray and the window.
func runApp(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("gatehouse", stderr)
	var cf commonFlags
	cf.addCommon(fs, true)
	hidden := fs.Bool("hidden", false, "start in the tray without opening the window (start at login uses it); opens it anyway where there is no tray host")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dataDir, err := cf.dataDir()
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	if *hidden {
		if _, running := findRunning(dataDir); running {
			return 0 // a login start finding Gatehouse already running: nothing to do
		}
	} else if code, done := showRunning(dataDir, stdout, stderr); done {
		return code
	}
	desktopMode.Store(true)
	defer desktopMode.Store(false)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := startStack(cf, false, log)
	if err != nil {
		if errors.Is(err, store.ErrAlreadyRunning) {
			// Started between our probe and our open: try once more to show it.
			if code, done := showRunning(dataDir, stdout, stderr); done {
				return code
			}
		}
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}

	fy := app.NewWithID(appID)
	a := ui.New(fy, appBackend(st))
	st.svc.app.Store(a)
	setUpTray(a, log)
	go func() {
		if err := <-st.serveErr; err != nil {
			log.Error("proxy stopped", "err", err)
			fyne.Do(fy.Quit)
		}
	}()
	idle, closed := make(chan struct{}), make(chan struct{}, 1)
	defer close(idle)
	a.OnWindowClosed = func() {
		select {
		case closed <- struct{}{}:
		default:
		}
	}
	go trimMemory(idle, closed)
	if !*hidden || !a.InTray() {
		a.Window().Show()
	}
	fy.Run() // until Quit (tray, signal, or closing the window when there is no tray)

	st.svc.app.Store(nil)
	a.Close()
	st.stop() // calls in flight finish, history is flushed
	log.Info("gatehouse stopped")
	return 0
}

// showRunning asks an instance already running with dataDir to show its window.
// done reports whether one answered (then code is the exit code).
func showRunning(dataDir string, stdout, stderr io.Writer) (code int, done bool) {
	c, ok := findRunning(dataDir)
	if !ok {
		return 0, false
	}
	status, body, err := c.do(http.MethodPost, "app/show", nil)
	for i := 0; i < 50 && err == nil && status == http.StatusServiceUnavailable; i++ {
		time.Sleep(200 * time.Millisecond) // its window is being built
		status, body, err = c.do(http.MethodPost, "app/show", nil)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "gatehouse: already running with data folder %s, but it did not answer: %v\n", dataDir, err)
		return 1, true
	case status == http.StatusOK:
		fmt.Fprintf(stdout, "Gatehouse is already running with data folder %s: its window was brought forward.\n", dataDir)
		return 0, true
	case status == http.StatusNotFound:
		fmt.Fprintf(stderr, "gatehouse: `gatehouse serve` is already running with data folder %s (it has no window); stop it first, or use another --data folder\n", dataDir)
		return 1, true
	}
	fmt.Fprintf(stderr, "gatehouse: already running with data folder %s; it answered %d: %s\n", dataDir, status, body)
	return 1, true
}

// appBackend adapts the running stack to what the screens need.
func appBackend(st *stack) *ui.Backend {
	b := &ui.Backend{
		Proxy:     st.server,
		Keys:      newAppKeys(st),
		Providers: appConfig{st},
		Settings:  appConfig{st},
		Log:       st.log,
	}
	if st.svc.history != nil {
		b.History = ui.StoreHistory{H: st.svc.history}
	}
	return b
}

// args are the flags that make another launch use the same data and config.
func (c commonFlags) args() []string {
	var out []string
	if c.data != "" {
		if abs, err := filepath.Abs(c.data); err == nil {
			out = append(out, "--data", abs)
		}
	}
	if c.configFile != "" {
		if abs, err := filepath.Abs(c.configFile); err == nil {
			out = append(out, "--config", abs)
		}
	}
	if c.listen != "" {
		out = append(out, "--listen", c.listen)
	}
	return out
}

// trimMemory keeps an idle app small: a tighter GC target (unless GOGC is
// set), and the garbage handed back to the OS (Go's free pages, and what the C
// side, the GL driver and GLFW, freed into malloc's arenas) once start-up has
// settled, every 30 s after that, and soon after the window was closed to the
// tray (a kick on closed).
func trimMemory(done <-chan struct{}, closed <-chan struct{}) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-closed:
			// The window's GL context goes on the UI loop's next ticks.
			timer.Reset(2 * time.Second)
			continue
		case <-timer.C:
		}
		debug.FreeOSMemory()
		trimCHeap()
		timer.Reset(30 * time.Second)
	}
}
