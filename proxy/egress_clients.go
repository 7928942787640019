package proxy

import (
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// clients holds the server's upstream clients, one per distinct network
// setting (most providers share the default one). Lookups are lock-free: the
// map is replaced, never changed, when a client is added.
type clients struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]*fasthttp.Client]
	// dialTCP, when set, replaces the direct TCP dial (tests map host names to
	// loopback with it).
	dialTCP atomic.Pointer[func(addr string) (net.Conn, error)]
}

func (c *clients) dial(addr string) (net.Conn, error) {
	if d := c.dialTCP.Load(); d != nil {
		return (*d)(addr)
	}
	return dialDirect(addr)
}

// clientFor returns the upstream client for p's network settings, creating it
// (and logging how it reaches the network) on first use.
func (s *Server) clientFor(p *config.Provider) *fasthttp.Client {
	var buf [256]byte
	k := networkKey(buf[:0], p.Network)
	if m := s.clients.m.Load(); m != nil {
		if c, ok := (*m)[string(k)]; ok {
			return c
		}
	}
	s.clients.mu.Lock()
	defer s.clients.mu.Unlock()
	old := s.clients.m.Load()
	if old != nil {
		if c, ok := (*old)[string(k)]; ok {
			return c
		}
	}
	e := newEgress(p.Network)
	e.dialTCP = s.clients.dial
	e.wrap = s.timed
	c := s.newUpstreamClient()
	e.attach(c)
	next := make(map[string]*fasthttp.Client, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[string(k)] = c
	s.clients.m.Store(&next)
	logNetwork(s.log, p)
	return c
}

// warmClients creates the clients of cfg's providers, so that their network
// settings are logged (insecure_skip_verify loudly) when the config is loaded,
// not at the first call.
func (s *Server) warmClients(cfg *config.Config) {
	for i := range cfg.Providers {
		s.clientFor(&cfg.Providers[i])
	}
}

// networkKey appends the identity of n's settings to b.
func networkKey(b []byte, n config.Network) []byte {
	b = append(b, n.Proxy()...)
	for _, f := range n.CAFiles {
		b = append(b, 0)
		b = append(b, f...)
	}
	if n.InsecureSkipVerify {
		b = append(b, 0, 'i')
	}
	return b
}

// logNetwork logs a new network path: a warning when certificate checks are
// off, otherwise only when it is not the plain default.
func logNetwork(log *slog.Logger, p *config.Provider) {
	switch n := p.Network; {
	case n.InsecureSkipVerify:
		log.Warn(InsecureWarning, "provider", p.Name, "network", NetworkPath(p))
	case n.Proxy() != config.ProxyEnv || len(n.CAFiles) > 0 || envProxySet("https") || envProxySet("http"):
		log.Info("upstream network", "provider", p.Name, "network", NetworkPath(p))
	}
}

// NewUpstreamClient returns a client that reaches p the way the proxy does (the
// same proxy choice, CA files and TLS settings), for one-off calls such as
// `keys test`. It reads responses whole; bound it with ReadTimeout,
// WriteTimeout or DoTimeout.
func NewUpstreamClient(p *config.Provider) *fasthttp.Client {
	c := &fasthttp.Client{NoDefaultUserAgentHeader: true, DisablePathNormalizing: true}
	newEgress(p.Network).attach(c)
	return c
}

// InsecureWarning is what the app and the log say while a provider has
// insecure_skip_verify on.
const InsecureWarning = "TLS CERTIFICATE CHECKS ARE OFF (insecure_skip_verify): anyone on the network path can read and change this provider's traffic, keys included"

// NetworkPath says in words how calls to p leave the machine, for the app and
// the logs: "direct", "through proxy http://proxy:3128 (from HTTPS_PROXY)",
// then any extra CA file and a warning while certificate checks are off.
// Credentials are never shown.
func NetworkPath(p *config.Provider) string {
	e := newEgress(p.Network)
	s := routeWords(e, upstreamURL(p, p.Format, kindModels, "", false))
	if len(p.Network.CAFiles) > 0 {
		s += "; also trusts " + strings.Join(p.Network.CAFiles, ", ")
	}
	if e.setupErr != nil {
		s += "; " + e.setupErr.Error()
	}
	if p.Network.InsecureSkipVerify {
		s += "; " + InsecureWarning
	}
	return s
}

// routeWords says which way e sends a request to rawURL.
func routeWords(e *egress, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "unknown (base_url is not a URL)"
	}
	if e.proxyFor == nil {
		return `direct (proxy_url = "none")`
	}
	isTLS := u.Scheme == "https"
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), defaultPort(isTLS))
	}
	pu, err := e.route(addr, isTLS)
	switch {
	case err != nil:
		return err.Error()
	case pu != nil && e.source == "proxy_url":
		return "through proxy " + config.RedactProxyURL(pu.String()) + " (proxy_url)"
	case pu != nil:
		return "through proxy " + config.RedactProxyURL(pu.String()) + " (from " + envProxyName(u.Scheme) + ")"
	case e.source == "proxy_url" || envProxySet(u.Scheme):
		return "direct (a local host, or named in NO_PROXY)"
	}
	return "direct"
}

func defaultPort(isTLS bool) string {
	if isTLS {
		return "443"
	}
	return "80"
}

// envProxyName is the variable that names the proxy for scheme, as
// httpproxy.FromEnvironment reads it (upper case first).
func envProxyName(scheme string) string {
	name := "HTTP_PROXY"
	if scheme == "https" {
		name = "HTTPS_PROXY"
	}
	if os.Getenv(name) == "" && os.Getenv(strings.ToLower(name)) != "" {
		return strings.ToLower(name)
	}
	return name
}

// envProxySet reports whether the environment names a proxy for scheme.
func envProxySet(scheme string) bool { return os.Getenv(envProxyName(scheme)) != "" }
