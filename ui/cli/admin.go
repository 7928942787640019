package cli

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/valyala/fasthttp"
)

// Admin is the server side of the admin protocol: /_gatehouse/api/* on the
// proxy's port, which the commands use to reach a running instance. The proxy
// has checked the token (TokenHeader) before Serve runs. Serve is safe for
// concurrent use.
type Admin struct {
	// Config returns the config in force.
	Config func() *config.Config
	// History is the open call history; nil: the history endpoints answer 503.
	History *store.History
	// Keys is the proxy's key cache; nil: keys/reload answers 503.
	Keys *store.Keys
	Log  *slog.Logger
	// Clients edits the client tokens and puts them in force; ClientUsage
	// reports the proxy's counts (issue 13). Nil: the clients endpoints
	// answer 503.
	Clients     *ClientBook
	ClientUsage func() map[string]proxy.ClientUsage
	// Version goes in the User-Agent of the doctor's calls.
	Version string
	// Desktop is set when this process runs the desktop app: until SetWindow,
	// app/show answers "starting" (503) rather than "this is gatehouse serve".
	Desktop bool

	window atomic.Pointer[windowBox]
}

// Window is the desktop app's window as the admin protocol drives it.
type Window interface {
	// Reveal brings the window forward on tab ("" keeps the current one),
	// showing call when set.
	Reveal(tab, call string)
}

type windowBox struct{ w Window }

// SetWindow plugs the desktop app's window in (nil unplugs it).
func (a *Admin) SetWindow(w Window) {
	if w == nil {
		a.window.Store(nil)
		return
	}
	a.window.Store(&windowBox{w})
}

// Serve answers one admin request.
func (a *Admin) Serve(ctx *fasthttp.RequestCtx) {
	path := strings.TrimPrefix(string(ctx.Path()), "/_gatehouse/api/")
	ctx.SetContentType("application/json")
	switch {
	case path == "history" || strings.HasPrefix(path, "history/"):
		a.historyAPI(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "history"), "/"))
	case path == "keys" || strings.HasPrefix(path, "keys/"):
		a.keysAPI(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "keys"), "/"))
	case path == "clients" || strings.HasPrefix(path, "clients/"):
		a.clientsAPI(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "clients"), "/"))
	case path == "doctor":
		a.doctorAPI(ctx)
	case path == "app" || strings.HasPrefix(path, "app/"):
		a.appAPI(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "app"), "/"))
	default:
		adminError(ctx, fasthttp.StatusNotFound, "no admin endpoint "+path)
	}
}

// adminError writes {"error": msg} with status.
func adminError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg}) // a string field cannot fail to encode
	ctx.SetBody(b)
}

func (a *Admin) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}
