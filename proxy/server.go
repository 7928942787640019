package proxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/pricing"
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
	// RequestReadTimeout bounds reading one request, headers and body: from the
	// connection's opening for its first request, from the first byte for the
	// next ones. A client that stalls mid-request is then cut off instead of
	// holding a connection for ever (issue 15 §5). Default 60 s.
	RequestReadTimeout time.Duration
	// History says whether calls are being recorded: degraded is why not ("" when
	// they are), notice an event at open worth knowing (a damaged file moved
	// aside). /_gatehouse/health reports both. Nil: not reported.
	History func() (degraded, notice string)

	// Usage and export (issue 14, usage.go). Observer sees every finished call;
	// Metrics serves GET /metrics (nil: 404) to the clients AllowMetrics accepts
	// (nil: loopback only; client tokens plug in here).
	Observer     Observer
	Metrics      fasthttp.RequestHandler
	AllowMetrics func(ctx *fasthttp.RequestCtx) bool
}

// defaultRequestReadTimeout is Options.RequestReadTimeout's default: 256 MiB
// (the largest body allowed) at 5 MB/s.
const defaultRequestReadTimeout = 60 * time.Second

// Server is the proxy. Create it with New; it is safe for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	cfg      atomic.Pointer[config.Config]
	paused   atomic.Bool
	srv      *fasthttp.Server
	clients  clients // upstream clients by network settings (egress_clients.go)
	circuits circuits
	models   modelCache
	hangups  hangups // client hang-up watches (hangup.go)
	prices   atomic.Pointer[pricing.Table]
	tokens   clientsState // client tokens and their usage (clients.go)
	own      ownNames     // this machine's addresses and names (access.go)
	keyFacts keyFacts     // attempts' key source labels and masks (wire.go)
	bodies   *bodyRoom    // room for request bodies in memory (reqbody.go)

	ln       atomic.Pointer[net.Listener]
	conns    sync.Map        // net.Addr (local) → *timedConn: the open upstream connections
	baseCtx  context.Context // cancelled when shutdown's grace period is over
	cancel   context.CancelFunc
	streamMu sync.Mutex
	streams  map[*streamState]struct{}
}

// New returns a server for cfg. cfg must have passed validation.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("proxy: nil config")
	}
	s := &Server{opts: opts, log: opts.Logger, streams: make(map[*streamState]struct{}), bodies: newBodyRoom()}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.opts.RequestReadTimeout <= 0 {
		s.opts.RequestReadTimeout = defaultRequestReadTimeout
	}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	s.cfg.Store(cfg)
	s.setPrices(cfg)
	s.warmClients(cfg)
	s.srv = &fasthttp.Server{
		Handler:                      s.handle,
		ErrorHandler:                 s.handleParseError,
		Name:                         "gatehouse",
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		WriteTimeout:                 0, // streams have no total limit
		ReadTimeout:                  s.opts.RequestReadTimeout,
		IdleTimeout:                  2 * time.Minute,
		ReadBufferSize:               16 << 10,
		// The handler answers bodies over max_body_bytes in the client's format;
		// this is only the hard stop, fixed at start, so it is the ceiling the
		// setting may reach by a reload (issue 19.9).
		MaxRequestBodySize: config.MaxBodyCeiling + 1,
		// The handler reads bodies itself, within a budget (reqbody.go).
		StreamRequestBody: true,
		CloseOnShutdown:   true,
		Logger:            fasthttpLogger{s.log},
	}
	return s, nil
}

// Config returns the configuration in force.
func (s *Server) Config() *config.Config { return s.cfg.Load() }

// Reload swaps in a new configuration; calls in flight finish with the old one.
func (s *Server) Reload(cfg *config.Config) {
	s.warmClients(cfg)
	s.setPrices(cfg)
	s.cfg.Store(cfg)
}

// SetPaused pauses (true) or resumes the proxy. A paused proxy answers every call
// with 503 in the client's format.
func (s *Server) SetPaused(p bool) { s.paused.Store(p) }

// Paused reports whether the proxy is paused.
func (s *Server) Paused() bool { return s.paused.Load() }

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.ln.Store(&ln)
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Addr is the address the server listens on ("" before Serve).
func (s *Server) Addr() string {
	ln := s.ln.Load()
	if ln == nil {
		return ""
	}
	return (*ln).Addr().String()
}

// Shutdown stops accepting connections and lets calls in flight finish until
// ctx is done; streams still running then are ended with an error event.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown() }()
	select {
	case err := <-done:
		s.cancel()
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	s.streamMu.Lock()
	for st := range s.streams {
		if st.body != nil {
			_ = st.body.CloseWithError(errShutdown)
		}
	}
	s.streamMu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	case <-time.After(2 * time.Second):
	}
	return nil
}

func (s *Server) track(st *streamState) {
	s.streamMu.Lock()
	s.streams[st] = struct{}{}
	s.streamMu.Unlock()
}

func (s *Server) untrack(st *streamState) {
	s.streamMu.Lock()
	delete(s.streams, st)
	s.streamMu.Unlock()
}

var (
	pathHealth   = []byte("/_gatehouse/health")
	prefixAdmin  = []byte("/_gatehouse/api/")
	headerOrigin = []byte("Origin")
)

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	defer s.recoverRequest(ctx)
	// ReadTimeout's deadline stays armed: it bounds reading the body
	// (loadBody), and nothing else reads the connection until a hang-up
	// watch starts, which lifts it (hangup.go). A deadline set costs a timer
	// update, and most calls need none.
	cfg := s.cfg.Load()
	path := ctx.Path()
	ep, known := parseEndpoint(ctx.Method(), path)
	format := config.FormatOpenAI
	if known {
		format = ep.format
	}
	if !s.hostAllowed(cfg, ctx.Host()) {
		// DNS rebinding: a web page may resolve its own name to 127.0.0.1.
		s.reject(ctx, format, fasthttp.StatusForbidden, fmt.Sprintf("Host %q is not allowed: Gatehouse answers only localhost, this machine's addresses and names, and the names in allow_hosts (config.toml)", ctx.Host()))
		return
	}
	remote := isRemote(ctx)
	if remote && !cfg.AllowRemote {
		s.reject(ctx, format, fasthttp.StatusForbidden, "Gatehouse is not shared on the network: start it with --allow-remote (or Settings → Share on the local network)")
		return
	}
	if origin := ctx.Request.Header.PeekBytes(headerOrigin); len(origin) > 0 {
		if !originAllowed(cfg, origin) {
			s.reject(ctx, format, fasthttp.StatusForbidden, fmt.Sprintf("browser origin %q is not allowed: add it to allow_origins in config.toml", origin))
			return
		}
		ctx.Response.Header.Set("Access-Control-Allow-Origin", string(origin))
		ctx.Response.Header.Set("Vary", "Origin")
		if ctx.IsOptions() {
			ctx.Response.Header.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			ctx.Response.Header.Set("Access-Control-Allow-Headers", "*")
			ctx.Response.Header.Set("Access-Control-Max-Age", "600")
			ctx.SetStatusCode(fasthttp.StatusNoContent)
			return
		}
	}
	release, ok := s.loadBody(ctx, format)
	if !ok {
		return
	}
	defer release()
	switch {
	case bytes.Equal(path, pathHealth):
		s.health(ctx)
		return
	case bytes.HasPrefix(path, prefixAdmin):
		if remote {
			s.reject(ctx, format, fasthttp.StatusForbidden, "the admin API answers this machine only")
			return
		}
		s.admin(ctx)
		return
	case s.opts.Metrics != nil && ctx.IsGet() && bytes.Equal(path, pathMetrics):
		s.metrics(ctx)
		return
	case !known:
		s.reject(ctx, format, fasthttp.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s (Gatehouse serves /v1/chat/completions, /v1/messages, /v1beta/models/{model}:generateContent and friends)", ctx.Method(), path))
		return
	}
	cl, ok := s.authorize(ctx, format, cfg, remote)
	if !ok {
		return
	}
	switch ep.kind {
	case kindModels:
		s.serveModels(ctx, ep, cfg)
	case kindPrompt:
		s.servePrompt(ctx, ep, cfg, cl)
	default:
		s.serveCall(ctx, ep, cfg, cl)
	}
}

// reject answers a request refused before routing, in the client's format. It
// is not recorded, but still carries a call id for the logs.
func (s *Server) reject(ctx *fasthttp.RequestCtx, f config.Format, status int, msg string) {
	id := NewCallID()
	ctx.Response.Header.Set("X-Gatehouse-Call", id)
	ctx.Response.Header.Set("X-Gatehouse-Attempts", "0")
	s.log.Warn("request refused", "call", id, "status", status, "path", string(ctx.Path()), "reason", msg)
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.Response.SetBodyRaw(codec.ErrorBody(f, status, msg, ""))
}

// handleParseError answers requests fasthttp could not read (oversized bodies,
// broken framing) in the format their path implies.
func (s *Server) handleParseError(ctx *fasthttp.RequestCtx, err error) {
	format := config.FormatOpenAI
	if ep, ok := parseEndpoint(ctx.Method(), ctx.Path()); ok {
		format = ep.format
	}
	status := fasthttp.StatusBadRequest
	msg := "cannot read the request: " + err.Error()
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		status = fasthttp.StatusRequestEntityTooLarge
		msg = s.tooLargeMessage()
	}
	s.reject(ctx, format, status, msg)
}

func (s *Server) health(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	status := "ok"
	if s.paused.Load() {
		status = "paused"
	}
	if s.opts.History == nil {
		fmt.Fprintf(ctx, `{"status":%q,"version":%q}`, status, s.opts.Version)
		return
	}
	// The proxy serves with a degraded history: status stays ok, history says
	// what is wrong (issue 15 §4).
	degraded, notice := s.opts.History()
	history := "ok"
	if degraded != "" {
		history = "degraded"
	}
	b, _ := json.Marshal(struct {
		Status   string `json:"status"`
		Version  string `json:"version"`
		History  string `json:"history"`
		Degraded string `json:"history_degraded,omitempty"`
		Notice   string `json:"history_notice,omitempty"`
	}{status, s.opts.Version, history, degraded, notice})
	ctx.SetBody(b)
}

func (s *Server) admin(ctx *fasthttp.RequestCtx) {
	tok := ctx.Request.Header.Peek("X-Gatehouse-Token")
	if s.opts.AdminToken == "" || s.opts.Admin == nil ||
		subtle.ConstantTimeCompare(tok, []byte(s.opts.AdminToken)) != 1 {
		ctx.SetContentType("application/json")
		ctx.SetStatusCode(fasthttp.StatusUnauthorized)
		ctx.SetBodyString(`{"error":"the admin API needs the token in the data folder's admin.token (header X-Gatehouse-Token)"}`)
		return
	}
	s.opts.Admin(ctx)
}

// loopbackHost reports whether a Host header names this machine by loopback.
func loopbackHost(host []byte) bool {
	h := string(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = trimBrackets(h)
	if h == "localhost" || h == "" {
		return true
	}
	ip, err := netip.ParseAddr(h) // net.ParseIP would allocate, on every call
	return err == nil && ip.IsLoopback()
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

func originAllowed(cfg *config.Config, origin []byte) bool {
	for _, o := range cfg.AllowOrigins {
		if o == "*" || o == string(origin) {
			return true
		}
	}
	return false
}

// fasthttpLogger routes fasthttp's own messages to slog.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Warn(fmt.Sprintf(format, args...), "component", "fasthttp")
}
