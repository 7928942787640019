package proxy

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// Who may call (issue 13): the Host header must name this machine (DNS
// rebinding: a web page may resolve its own name to 127.0.0.1 or a LAN
// address), a request from another machine must carry a client token, and
// with require_client_token so must every request.

// isRemote reports whether a request comes from another machine: not from
// loopback, and not from the address it came to (a local tool dialling the
// machine's LAN address, such as the commands reaching a shared instance).
func isRemote(ctx *fasthttp.RequestCtx) bool {
	ip := ctx.RemoteIP()
	return !ip.IsLoopback() && !ip.Equal(ctx.LocalIP())
}

// hostAllowed reports whether a Host header names this machine: loopback, one
// of its own addresses or host names, or a name in allow_hosts.
func (s *Server) hostAllowed(cfg *config.Config, host []byte) bool {
	if loopbackHost(host) {
		return true
	}
	h := hostOnly(string(host))
	for _, a := range cfg.AllowHosts {
		if strings.EqualFold(a, h) {
			return true
		}
	}
	return s.own.has(h)
}

// hostOnly is a Host header without its port and brackets, lower-cased.
func hostOnly(h string) string {
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.ToLower(trimBrackets(h))
}

// ownNames are this machine's addresses and host names, re-read at most every
// ownNamesTTL when a name is not among them (addresses change with networks).
type ownNames struct {
	mu    sync.Mutex
	names atomic.Pointer[map[string]bool]
	at    time.Time
}

const ownNamesTTL = 5 * time.Second

func (o *ownNames) has(h string) bool {
	if m := o.names.Load(); m != nil && (*m)[h] {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if time.Since(o.at) < ownNamesTTL && o.names.Load() != nil {
		return false
	}
	m := MachineNames()
	o.names.Store(&m)
	o.at = time.Now()
	return m[h]
}

// MachineNames returns this machine's interface addresses and host names
// (plain and ".local"), lower-cased.
func MachineNames() map[string]bool {
	m := map[string]bool{}
	if hn, err := os.Hostname(); err == nil && hn != "" {
		hn = strings.ToLower(hn)
		m[hn] = true
		short, _, _ := strings.Cut(hn, ".")
		m[short] = true
		m[short+".local"] = true
	}
	for _, ip := range MachineAddrs(true) {
		m[strings.ToLower(ip.String())] = true
	}
	return m
}

// MachineAddrs returns this machine's interface addresses; withLoopback
// includes 127.0.0.1 and ::1. Link-local IPv6 addresses are left out (they
// need a zone to be used).
func MachineAddrs(withLoopback bool) []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLinkLocalUnicast() || (!withLoopback && n.IP.IsLoopback()) {
			continue
		}
		out = append(out, n.IP)
	}
	return out
}

// authorize finds the client a request comes from. ok is false when the
// request was answered (401) instead: an unknown or expired token, or no
// token where one is needed (from another machine, or require_client_token).
// A nil client means a local call without a token.
func (s *Server) authorize(ctx *fasthttp.RequestCtx, f config.Format, cfg *config.Config, remote bool) (cl *clientEntry, ok bool) {
	tok := findToken(&ctx.Request)
	if tok == nil {
		if !remote && !cfg.RequireClientToken {
			return nil, true
		}
		why := "require_client_token is on"
		if remote {
			why = "requests from other machines need one"
		}
		s.unauthorized(ctx, f, "a Gatehouse client token is needed ("+why+"): create one with `gatehouse clients add NAME` (or the app's Clients screen) and send it as the API key")
		return nil, false
	}
	cl = s.lookupClient(tok)
	if cl == nil {
		s.unauthorized(ctx, f, "this Gatehouse client token is not known: it was removed or rotated (`gatehouse clients list`)")
		return nil, false
	}
	if !cl.Expires.IsZero() && !time.Now().Before(cl.Expires) {
		s.unauthorized(ctx, f, fmt.Sprintf("the client token of %q expired on %s: `gatehouse clients rotate %s` makes a new one", cl.Name, cl.Expires.Local().Format("2006-01-02 15:04"), cl.Name))
		return nil, false
	}
	return cl, true
}

// unauthorized answers 401 in the client's format.
func (s *Server) unauthorized(ctx *fasthttp.RequestCtx, f config.Format, msg string) {
	ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	s.reject(ctx, f, fasthttp.StatusUnauthorized, msg)
}
