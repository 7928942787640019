// Command gatehouse is a local LLM proxy with a desktop tray app: tools point at
// http://127.0.0.1:8765, and Gatehouse injects provider keys from the OS keychain,
// translates between provider formats, retries flaky upstreams and records every
// call.
//
// Usage:
//
//	gatehouse                 desktop app: tray + window + proxy
//	gatehouse serve           proxy only, no GUI, logs to stderr
//	gatehouse history ...     browse recorded calls
//	gatehouse keys ...        manage provider keys in the OS keychain
//	gatehouse providers ...   list, add and remove providers
//	gatehouse version
//
// This file is the composition root, the one place that sees every part:
// config → history (store) → keys (store) → proxy, then `serve`, the desktop
// app (ui) or a terminal command (ui/cli).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/telemetry"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui"
	"github.com/gatehouse/gatehouse/ui/cli"
	// Before Fyne reads the locale (its init): no "Error parsing user locale C".
	_ "github.com/gatehouse/gatehouse/ui/locale"
	"github.com/valyala/fasthttp"
)

// version and commit are set at build time (Makefile, .ci/package) with
// -ldflags "-X main.version=0.1.0 -X main.commit=32a75a1". init joins them into
// one SemVer string with the commit as build metadata ("0.1.0+32a75a1"), so
// `gatehouse version`, /_gatehouse/health, instance.json and the User-Agent all
// name the commit an artifact was built from.
var (
	version = "0.1.0-dev"
	commit  = ""
)

func init() {
	bi, _ := debug.ReadBuildInfo()
	version = stampVersion(version, commit, bi)
}

// stampVersion appends the commit to v as SemVer build metadata. Without a
// stamped commit it uses the revision `go build` records from git (absent under
// go test and go run, and when built outside a checkout), marked ".dirty" for
// uncommitted changes.
func stampVersion(v, commit string, bi *debug.BuildInfo) string {
	if commit == "" && bi != nil {
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value[:min(len(s.Value), 12)]
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if commit != "" && modified {
			commit += ".dirty"
		}
	}
	if commit == "" || strings.Contains(v, "+") {
		return v
	}
	return v + "+" + commit
}

func main() {
	if a := os.Args[1:]; len(a) > 0 && (!strings.HasPrefix(a[0], "-") || a[0] == "--version" || cli.IsHelp(a[0])) {
		cli.AttachConsole() // a command, typed into cmd or PowerShell, to the GUI-subsystem .exe
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && cli.IsHelp(args[0]):
		return cli.Run(args, stdin, stdout, stderr, version)
	case len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "--version":
		return runApp(args, stdout, stderr)
	case args[0] == "serve":
		return runServe(args[1:], stderr)
	}
	return cli.Run(args, stdin, stdout, stderr, version)
}

// serveMemoryLimit is the floor of serve's soft memory limit (GOMEMLIMIT, when
// set, wins): near it the GC collects sooner instead of letting the heap grow
// to twice the live data, so that a busy proxy with 500 open streams stays
// within 150 MB resident (issue 17). It rises with a larger live heap
// (cli.KeepMemoryLimit), or the GC would run without pause. It is soft: past
// it the GC works harder, nothing fails.
const serveMemoryLimit = 100 << 20

// shutdownGrace is how long calls in flight may take to finish on exit.
const shutdownGrace = 10 * time.Second

// windowsEndGrace replaces shutdownGrace for a SIGTERM on Windows: Go raises it
// when the console window is closed or the user logs off or shuts down, and
// Windows ends the process about 5 s later. Calls in flight get 3 s, the
// history flush and exit the rest (issue 18).
const windowsEndGrace = 3 * time.Second

// drainTime is how long calls in flight may take after signal s on goos.
func drainTime(goos string, s os.Signal) time.Duration {
	if goos == "windows" && s == syscall.SIGTERM {
		return windowsEndGrace
	}
	return shutdownGrace
}

// stack is a running proxy with everything plugged into it: what `serve`
// and the desktop app share.
type stack struct {
	dataDir string
	flags   cli.Flags
	log     *slog.Logger
	cfg     atomic.Pointer[config.Config]
	history *store.History
	keys    *store.Keys
	admin   *cli.Admin
	server  *proxy.Server
	clients *cli.ClientBook        // client tokens (issue 13)
	app     atomic.Pointer[ui.App] // the desktop app once its window exists
	grace   time.Duration          // calls in flight get this long at stop; 0: shutdownGrace

	serveErr chan error
	cancel   context.CancelFunc
	closers  []func() // run in reverse order by stop
}

// start loads the config, opens history and keys, and starts the proxy.
// desktop says the desktop app will plug its window in.
func startStack(cf cli.Flags, desktop bool, log *slog.Logger) (*stack, error) {
	dataDir, err := cf.DataDir()
	if err != nil {
		return nil, err
	}
	cfg, err := cf.LoadConfig(dataDir)
	if err != nil {
		return nil, err
	}
	if err := checkListen(cfg.Listen, cfg.AllowRemote); err != nil {
		return nil, err
	}
	st := &stack{dataDir: dataDir, flags: cf, log: log, serveErr: make(chan error, 1)}
	st.cfg.Store(cfg)
	ok := false
	defer func() {
		if !ok {
			st.runClosers()
		}
	}()

	opts := cli.HistoryOptions(cfg)
	opts.Secrets = func() []string { return cli.SecretValues(st.keys, st.cfg.Load()) }
	opts.Logger = log
	// The heap a burst of calls grew stays resident for minutes unless given
	// back once recording goes idle (issue 17). Two collections: the first only
	// moves what sync.Pools hold (fasthttp's per-connection buffers, tens of MB
	// after 500 streams) to their victim caches; the second frees it.
	opts.OnIdle = func() {
		runtime.GC()
		debug.FreeOSMemory()
		ui.ReleaseImagePages()
	}
	// A damaged file, an unwritable folder or a full disk must not stop the
	// proxy: the history moves the file aside or degrades, and says so.
	opts.Resilient = true
	if st.history, err = store.OpenHistory(dataDir, opts); err != nil {
		return nil, err
	}
	st.closers = append(st.closers, func() {
		if err := st.history.Close(); err != nil {
			log.Error("close history", "err", err)
		}
	})
	st.keys = openKeys(cfg, log)
	token, err := cli.LoadAdminToken(dataDir)
	if err != nil {
		// A read-only data folder: the proxy serves, the commands cannot reach it.
		log.Error("admin API off: the commands (history, keys, doctor) will not reach this instance", "err", err)
		token = ""
	}
	clients, err := store.LoadClients(dataDir)
	if err != nil {
		return nil, err
	}
	st.admin = &cli.Admin{Config: st.cfg.Load, History: st.history, Keys: st.keys, Log: log, Desktop: desktop, Version: version}
	observer, metrics, err := st.startTelemetry(cfg)
	if err != nil {
		return nil, err
	}
	st.server, err = proxy.New(cfg, proxy.Options{
		Observer:   observer,
		Metrics:    metrics,
		Keys:       st.keys,
		Recorder:   cli.Recorder{H: st.history},
		Logger:     log,
		Version:    version,
		AdminToken: token,
		Admin:      st.admin.Serve,
		OnCircuit:  st.onCircuit,
		History:    st.historyHealth,
	})
	if err != nil {
		return nil, err
	}
	st.startClients(clients)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another program using that port? pick another with --listen)", cfg.Listen, err)
	}
	tlsConf, err := cfg.LoadTLS()
	if err != nil {
		ln.Close()
		return nil, err
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	go func() { st.serveErr <- st.server.Serve(ln) }()
	st.closers = append(st.closers, func() {
		grace := st.grace
		if grace == 0 {
			grace = shutdownGrace
		}
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := st.server.Shutdown(ctx); err != nil {
			log.Warn("shutdown", "err", err)
		}
	})
	if err := cli.WriteInstance(dataDir, cli.Instance{Addr: ln.Addr().String(), PID: os.Getpid(), Version: version, Started: time.Now(), TLS: tlsConf != nil}); err != nil {
		log.Error("instance file not written: the commands will not find this instance", "err", err)
	}
	st.closers = append(st.closers, func() { cli.RemoveInstance(dataDir) })

	ctx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	go st.retryKeychain(ctx)
	go config.Watch(ctx, cfg, time.Second, st.reload, func(err error) {
		log.Error("config file not applied; keeping the last good config", "err", err)
	})
	log.Info("gatehouse listening", "addr", ln.Addr().String(), "data", dataDir, "config", cfg.Path, "version", version)
	ok = true
	return st, nil
}

// startClients puts the client tokens in force, plugs their editor into the
// admin API, and seeds today's usage from history before the port opens: a
// restart must not reset a day's budgets. The scan reads only the summaries
// of calls made with a token in full (store.ClientActivity).
func (st *stack) startClients(list []store.Client) {
	st.clients = &cli.ClientBook{DataDir: st.dataDir, Apply: func(l []store.Client) { st.server.SetClients(cli.ProxyClients(l)) }}
	st.server.SetClients(cli.ProxyClients(list))
	st.admin.Clients, st.admin.ClientUsage = st.clients, st.server.ClientUsage
	if len(list) == 0 {
		return
	}
	usage, err := cli.UsageFromHistory(st.history, time.Now(), st.cfg.Load().History.MaxAge.Duration)
	if err != nil {
		st.log.Warn("client budgets start from zero today", "err", err)
		return
	}
	for name, u := range usage {
		st.server.SeedClientUsage(name, u.Tokens, u.USD, u.LastUsed)
	}
}

// keychainRetry is how often a locked keychain is tried again.
const keychainRetry = 5 * time.Second

// retryKeychain re-reads every key while the keychain is locked, so that
// unlocking it is enough: no restart (issue 15 §4).
func (st *stack) retryKeychain(ctx context.Context) {
	tick := time.NewTicker(keychainRetry)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// Only a locked keychain comes back by itself; probing a missing D-Bus
		// every few seconds could start a bus each time (dbus-launch).
		var ke *store.KeychainError
		if err := st.keys.Unavailable(); err == nil || !errors.As(err, &ke) || !ke.Locked() {
			continue
		}
		if err := st.keys.Reload(cli.KeyAccounts(st.cfg.Load())); err == nil {
			st.log.Info("keychain usable again: keys re-read")
		}
	}
}

// historyHealth is the proxy's health hook on the history's fault state.
func (st *stack) historyHealth() (degraded, notice string) {
	h := st.history.Health()
	return h.Degraded, h.Notice
}

// startTelemetry starts the Prometheus metrics and OpenTelemetry tracing the
// config asks for (nil, nil when both are off); turning either on or off takes
// a restart. The exporter closes after the proxy, sending the last spans.
func (st *stack) startTelemetry(cfg *config.Config) (proxy.Observer, fasthttp.RequestHandler, error) {
	if !cfg.Metrics.On() && !cfg.Tracing.Enabled {
		return nil, nil, nil
	}
	exp, err := telemetry.New(telemetry.Options{
		Config: st.cfg.Load, Version: version, Metrics: cfg.Metrics.On(), Logger: st.log,
		Circuits: func() []proxy.CircuitState { return st.server.Circuits() },
		History: func() telemetry.HistoryStats {
			d := st.history.Drops()
			return telemetry.HistoryStats{QueueDepth: st.history.QueueDepth(), DroppedCalls: d.Calls, DroppedBodies: d.Bodies}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	st.closers = append(st.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := exp.Close(ctx); err != nil {
			st.log.Warn("telemetry not flushed", "err", err)
		}
	})
	if cfg.Tracing.Enabled {
		st.log.Info("tracing to OTLP", "protocol", telemetry.Protocol(cfg.Tracing))
	}
	return exp, exp.Handler(), nil
}

// openKeys reads cfg's keys from the keychain into memory: the proxy's key
// source. Without a usable keychain Gatehouse still runs on key_env variables
// and clients' own keys, and says what is missing and how to fix it.
func openKeys(cfg *config.Config, log *slog.Logger) *store.Keys {
	keys := store.NewKeys()
	if err := keys.Load(cli.KeyAccounts(cfg)); err != nil {
		const msg = "keychain unavailable: using key_env variables and the keys clients send"
		var ke *store.KeychainError
		if errors.As(err, &ke) {
			log.Warn(msg, "missing", ke.Reason, "fix", ke.Fix, "env_keys", cli.EnvKeyNames(cfg))
		} else {
			log.Warn(msg, "err", err)
		}
	}
	return keys
}

// reload applies a changed config file (the listen address needs a restart).
func (st *stack) reload(cfg *config.Config) {
	st.flags.ApplyListen(cfg)
	st.cfg.Store(cfg)
	st.server.Reload(cfg)
	// Read the keys of providers the new config added; this runs on the config
	// watcher's goroutine, never on the request path.
	if err := st.keys.Load(cli.KeyAccounts(cfg)); err != nil {
		st.log.Warn("keychain unavailable for the new providers", "err", err)
	}
	o := cli.HistoryOptions(cfg)
	st.history.SetPolicy(store.Policy{BodyCap: o.BodyCap, MaxAge: o.MaxAge, MaxSize: o.MaxSize})
	st.log.Info("config reloaded", "file", cfg.Path, "providers", len(cfg.Providers), "routes", len(cfg.Routes))
}

// onCircuit is the proxy's circuit hook: it logs and tells the app.
func (st *stack) onCircuit(provider string, open bool) {
	if open {
		st.log.Warn("provider failing: circuit open", "provider", provider)
	} else {
		st.log.Info("provider recovered: circuit closed", "provider", provider)
	}
	if a := st.app.Load(); a != nil {
		a.CircuitChanged(provider, open)
	}
}

// stop shuts the proxy down gracefully, then flushes and closes history.
func (st *stack) stop() {
	if st.cancel != nil {
		st.cancel()
	}
	st.runClosers()
}

func (st *stack) runClosers() {
	for i := len(st.closers) - 1; i >= 0; i-- {
		st.closers[i]()
	}
	st.closers = nil
}

// checkListen refuses a non-loopback address unless remote access is allowed.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("listen address " + addr + " is not loopback: Gatehouse holds your provider keys, so it listens on 127.0.0.1 or ::1 only; add --allow-remote to expose it on purpose")
}

// runServe is `gatehouse serve`: the proxy alone, logging to stderr.
func runServe(args []string, stderr io.Writer) int {
	fs := cli.NewFlagSet("serve", stderr)
	var cf cli.Flags
	cf.Add(fs, true)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// Catch the signals before the port opens: a SIGTERM sent as soon as the
	// proxy answers must stop it gracefully, not kill it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := startStack(cf, false, log)
	if err != nil {
		return cli.Exit(stderr, "", err)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limitDone := make(chan struct{})
		defer close(limitDone)
		go cli.KeepMemoryLimit(serveMemoryLimit, 2*time.Second, st.server.RequestBodiesPeak, limitDone)
	}
	// Start-up code is done with; the goroutines just started settle within a
	// moment and their first touches come back in.
	ui.ReleaseImagePages()
	time.AfterFunc(2*time.Second, ui.ReleaseImagePages)

	select {
	case s := <-sig:
		st.grace = drainTime(runtime.GOOS, s)
		log.Info("stopping", "signal", s.String(), "grace", st.grace)
	case err := <-st.serveErr:
		if err != nil {
			log.Error("server stopped", "err", err)
			st.stop()
			return 1
		}
	}
	st.stop()
	return 0
}

// runApp is `gatehouse` with no command: the proxy, the tray and the window.
func runApp(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("gatehouse", stderr)
	var cf cli.Flags
	cf.Add(fs, true)
	hidden := fs.Bool("hidden", false, "start in the tray without opening the window (start at login uses it); opens it anyway where there is no tray host")
	fs.Usage = func() {
		fmt.Fprint(stderr, cli.Usage, "\nFlags of the desktop app:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dataDir, err := cf.DataDir()
	if err != nil {
		return cli.Exit(stderr, "", err)
	}
	if *hidden {
		if _, running := cli.FindRunning(dataDir); running {
			return 0 // a login start finding Gatehouse already running: nothing to do
		}
	} else if done, err := cli.ShowRunning(dataDir, stdout); done {
		return cli.Exit(stderr, "", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := startStack(cf, true, log)
	if err != nil {
		if errors.Is(err, store.ErrAlreadyRunning) {
			// Started between our probe and our open: try once more to show it.
			if done, err := cli.ShowRunning(dataDir, stdout); done {
				return cli.Exit(stderr, "", err)
			}
		}
		return cli.Exit(stderr, "", err)
	}

	fy := app.NewWithID(ui.AppID)
	a := ui.New(fy, st.backend())
	st.app.Store(a)
	st.admin.SetWindow(a)
	a.SetUpTray(log)
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
	go ui.TrimMemory(idle, closed)
	if !*hidden || !a.InTray() {
		a.Window().Show()
	}
	fy.Run() // until Quit (tray, signal, or closing the window when there is no tray)

	st.admin.SetWindow(nil)
	st.app.Store(nil)
	a.Close()
	st.stop() // calls in flight finish, history is flushed
	log.Info("gatehouse stopped")
	return 0
}

// backend adapts the running proxy, history, keychain and config file to what
// the screens need.
func (st *stack) backend() *ui.Backend {
	cfgFile := ui.ConfigFile{
		Path:      st.flags.ConfigPath(st.dataDir),
		Config:    st.cfg.Load,
		Apply:     st.reload,
		LoginArgs: st.flags.Args(),
	}
	return &ui.Backend{
		Clients:   ui.ClientTokens{Book: st.clients, Usage: st.server.ClientUsage},
		Prompts:   ui.PromptFile{ConfigFile: cfgFile, Runner: st.server},
		Proxy:     st.server,
		History:   ui.StoreHistory{H: st.history},
		Keys:      ui.Keychain{Keys: st.keys, Config: st.cfg.Load, Version: version},
		Providers: cfgFile,
		Settings:  cfgFile,
		Doctor:    st.admin.Doctor,
		Version:   version,
		Log:       st.log,
	}
}
