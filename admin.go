package main

import (
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// services is what the admin API, the commands and the desktop app work on. Each
// part keeps its own state in an embedded struct declared in its own file.
type services struct {
	dataDir string
	log     *slog.Logger
	cfg     atomic.Pointer[config.Config]
	server  *proxy.Server

	historyServices // cmd_history.go
	keyServices     // cmd_keys.go
	appServices     // cmd_app.go
}

// adminHandler serves /_gatehouse/api/*; the proxy has checked the token.
func adminHandler(s *services) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		path := strings.TrimPrefix(string(ctx.Path()), "/_gatehouse/api/")
		ctx.SetContentType("application/json")
		switch {
		case path == "history" || strings.HasPrefix(path, "history/"):
			s.historyAPI(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "history"), "/"))
		case path == "keys" || strings.HasPrefix(path, "keys/"):
			s.keysAPI(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "keys"), "/"))
		case path == "app" || strings.HasPrefix(path, "app/"):
			s.appAPI(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "app"), "/"))
		default:
			adminError(ctx, fasthttp.StatusNotFound, "no admin endpoint "+path)
		}
	}
}

// adminError writes {"error": msg} with status.
func adminError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	b := append([]byte(`{"error":`), jsonString(msg)...)
	ctx.SetBody(append(b, '}'))
}

func jsonString(s string) []byte {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return []byte(b.String())
}

// onCircuit is the proxy's circuit hook: it logs and tells the app.
func (s *services) onCircuit(provider string, open bool) {
	if open {
		s.log.Warn("provider failing: circuit open", "provider", provider)
	} else {
		s.log.Info("provider recovered: circuit closed", "provider", provider)
	}
	s.appCircuit(provider, open)
}

// secretValues returns every provider secret Gatehouse knows (keychain and key_env
// values): history redacts their literal values wherever they appear.
func (s *services) secretValues() []string { return s.keySecretValues() }

// configChanged tells every part about a new config.
func (s *services) configChanged(cfg *config.Config) {
	s.keysConfigChanged(cfg)
	s.historyConfigChanged(cfg)
}
