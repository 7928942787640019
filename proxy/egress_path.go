package proxy

import (
	"fmt"
	"net"
	"net/url"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// Path is the network path the proxy takes to one upstream URL (egress.go),
// laid open step by step for `gatehouse doctor`: whom to dial first, then the
// tunnel and TLS the proxy would run over that connection.
type Path struct {
	// Upstream is the upstream's host:port; TLS says whether it is https.
	Upstream string
	TLS      bool
	// Proxy is the HTTP proxy in the way, credentials hidden; "" when direct.
	Proxy string
	// Words says which way the call goes, as the Providers screen shows it.
	Words string

	e  *egress
	pu *url.URL
}

// PathOf returns the path calls to rawURL of p take. The error is a settings
// problem that fails every call (an unreadable ca_file, an invalid proxy URL).
func PathOf(p *config.Provider, rawURL string) (Path, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return Path{}, fmt.Errorf("base_url %q is not a URL", rawURL)
	}
	e := newEgress(p.Network)
	path := Path{TLS: u.Scheme == "https", Upstream: u.Host, Words: routeWords(e, rawURL), e: e}
	if u.Port() == "" {
		path.Upstream = net.JoinHostPort(u.Hostname(), defaultPort(path.TLS))
	}
	if e.setupErr != nil {
		return path, e.setupErr
	}
	if path.pu, err = e.route(path.Upstream, path.TLS); err != nil {
		return path, err
	}
	if path.pu != nil {
		path.Proxy = config.RedactProxyURL(path.pu.String())
	}
	return path, nil
}

// First is the host:port dialled first: the proxy's when there is one.
func (p Path) First() string {
	if p.pu == nil {
		return p.Upstream
	}
	port := p.pu.Port()
	if port == "" {
		port = defaultPort(p.pu.Scheme == "https")
	}
	return net.JoinHostPort(p.pu.Hostname(), port)
}

// Finish runs the rest of the path over c, a TCP connection to First(): the
// proxy's CONNECT tunnel (or forwarding), then the TLS handshake of an https
// upstream, exactly as the proxy does. On error c is closed.
func (p Path) Finish(c net.Conn) (net.Conn, error) {
	e := *p.e
	used := false
	e.dialTCP = func(string) (net.Conn, error) {
		if used {
			return nil, fmt.Errorf("one connection only")
		}
		used = true
		return c, nil
	}
	return e.dial(p.Upstream, p.TLS)
}

// Target is one provider and upstream model a requested model routes to.
type Target struct {
	Provider *config.Provider
	Model    string
}

// Targets resolves a requested model as a call would ("provider/model", a
// [[route]] alias, a provider's model globs), in the order they are tried.
func Targets(cfg *config.Config, model string) ([]Target, error) {
	ts, err := resolve(cfg, model)
	if err != nil {
		return nil, err
	}
	out := make([]Target, len(ts))
	for i, t := range ts {
		out[i] = Target{Provider: t.provider, Model: t.model}
	}
	return out, nil
}

// ModelsURL is the URL of p's model list.
func ModelsURL(p *config.Provider) string { return upstreamURL(p, p.Format, kindModels, "", false) }
