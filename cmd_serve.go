package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// shutdownGrace is how long calls in flight may take to finish on exit.
const shutdownGrace = 10 * time.Second

// runServe is `gatehouse serve`: the proxy alone, logging to stderr.
func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	var cf commonFlags
	cf.addCommon(fs, true)
	allowRemote := fs.Bool("allow-remote", false, "allow a --listen address other than loopback")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := startStack(cf, *allowRemote, log)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("stopping", "signal", s.String())
	case err := <-st.serveErr:
		if err != nil {
			log.Error("server stopped", "err", err)
			st.stop()
			return 1
		}
	}
	signal.Stop(sig)
	st.stop()
	return 0
}

// stack is a running proxy with everything plugged into it: what `serve` and the
// desktop app share.
type stack struct {
	dataDir  string
	flags    commonFlags
	log      *slog.Logger
	server   *proxy.Server
	svc      *services
	serveErr chan error
	cancel   context.CancelFunc
	closers  []func() // run in reverse order by stop
}

// startStack loads the config, opens history and keys, and starts the proxy.
func startStack(cf commonFlags, allowRemote bool, log *slog.Logger) (*stack, error) {
	dataDir, err := cf.dataDir()
	if err != nil {
		return nil, err
	}
	cfg, err := cf.loadConfig(dataDir)
	if err != nil {
		return nil, err
	}
	if err := checkListen(cfg.Listen, allowRemote || cfg.AllowRemote); err != nil {
		return nil, err
	}
	st := &stack{dataDir: dataDir, flags: cf, log: log, serveErr: make(chan error, 1)}
	ok := false
	defer func() {
		if !ok {
			st.runClosers()
		}
	}()

	st.svc = &services{dataDir: dataDir, log: log}
	st.svc.cfg.Store(cfg)
	rec, closeHistory, err := st.svc.openHistory(cfg)
	if err != nil {
		return nil, err
	}
	st.closers = append(st.closers, closeHistory)
	keys, err := st.svc.openKeys(cfg)
	if err != nil {
		return nil, err
	}
	token, err := loadAdminToken(dataDir)
	if err != nil {
		return nil, err
	}
	srv, err := proxy.New(cfg, proxy.Options{
		Keys:       keys,
		Recorder:   rec,
		Logger:     log,
		Version:    version,
		AdminToken: token,
		Admin:      adminHandler(st.svc),
		OnCircuit:  st.svc.onCircuit,
	})
	if err != nil {
		return nil, err
	}
	st.server = srv
	st.svc.server = srv

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another program using that port? pick another with --listen)", cfg.Listen, err)
	}
	go func() { st.serveErr <- srv.Serve(ln) }()
	st.closers = append(st.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("shutdown", "err", err)
		}
	})
	if err := writeInstance(dataDir, instanceInfo{Addr: ln.Addr().String(), PID: os.Getpid(), Version: version, Started: time.Now()}); err != nil {
		return nil, err
	}
	st.closers = append(st.closers, func() { removeInstance(dataDir) })

	ctx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	go config.Watch(ctx, cfg, time.Second, st.reload, func(err error) {
		log.Error("config file not applied; keeping the last good config", "err", err)
	})
	log.Info("gatehouse listening", "addr", ln.Addr().String(), "data", dataDir, "config", cfg.Path, "version", version)
	ok = true
	return st, nil
}

// reload applies a changed config file (the listen address needs a restart).
func (st *stack) reload(cfg *config.Config) {
	st.flags.applyListen(cfg)
	st.svc.cfg.Store(cfg)
	st.server.Reload(cfg)
	st.svc.configChanged(cfg)
	st.log.Info("config reloaded", "file", cfg.Path, "providers", len(cfg.Providers), "routes", len(cfg.Routes))
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
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("listen address " + addr + " is not loopback: Gatehouse holds your provider keys, so it listens on 127.0.0.1 or ::1 only; add --allow-remote to expose it on purpose")
}
