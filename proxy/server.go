package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// Options are the parts a Server is plugged into. Every field may be nil.
type Options struct {
	// Keys gives keychain secrets. Nil: only key_env variables and client keys are used.
	Keys KeySource
	// Recorder receives every finished call. Nil: calls are not recorded.
	Recorder Recorder
	// Logger receives the server's logs. Nil: slog.Default().
	Logger *slog.Logger
	// Version is reported by /_gatehouse/health.
	Version string
	// AdminToken guards /_gatehouse/api/; requests must send it in the
	// X-Gatehouse-Token header. Empty: the admin API is off.
	AdminToken string
	// Admin serves /_gatehouse/api/* once the token checked out.
	Admin fasthttp.RequestHandler
	// OnCircuit is called when a provider's circuit opens (open=true) or closes
	// again. It runs on a request goroutine and must not block.
	OnCircuit func(provider string, open bool)
}

// Server is the proxy. Create it with New; it is safe for concurrent use.
type Server struct {
	opts   Options
	log    *slog.Logger
	cfg    atomic.Pointer[config.Config]
	paused atomic.Bool
	srv    *fasthttp.Server
	ln     net.Listener
}

// New returns a server for cfg. cfg must have passed validation.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("proxy: nil config")
	}
	s := &Server{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.cfg.Store(cfg)
	s.srv = &fasthttp.Server{
		Handler:                       s.handle,
		Name:                          "gatehouse",
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		DisablePreParseMultipartForm:  true,
		ReadTimeout:                   0,
		WriteTimeout:                  0, // streams have no total limit
		IdleTimeout:                   2 * time.Minute,
		MaxRequestBodySize:            int(cfg.MaxBodyBytes) + 1,
		DisableHeaderNamesNormalizing: false,
		CloseOnShutdown:               true,
		Logger:                        fasthttpLogger{s.log},
	}
	return s, nil
}

// Config returns the configuration in force.
func (s *Server) Config() *config.Config { return s.cfg.Load() }

// Reload swaps in a new configuration; calls in flight finish with the old one.
func (s *Server) Reload(cfg *config.Config) { s.cfg.Store(cfg) }

// SetPaused pauses (true) or resumes the proxy. A paused proxy answers every call
// with 503 in the client's format.
func (s *Server) SetPaused(p bool) { s.paused.Store(p) }

// Paused reports whether the proxy is paused.
func (s *Server) Paused() bool { return s.paused.Load() }

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.ln = ln
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Addr is the address the server listens on ("" before Serve).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting connections and waits for calls in flight to finish
// until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusNotImplemented)
}

// fasthttpLogger routes fasthttp's own messages to slog.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Warn(fmt.Sprintf(format, args...), "component", "fasthttp")
}
