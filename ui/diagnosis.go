package ui

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// Diagnose explains in plain words what most likely happened in a call and what
// to do about it, from its attempts' error classes. keySource says where the key
// of a provider came from (it may be nil). It returns "" for a clean call.
func Diagnose(c *store.Call, keySource func(provider string) KeySource) string {
	if c.Outcome == store.OutcomeOK && len(c.Attempts) <= 1 {
		return ""
	}
	var parts []string
	failed := failedAttempts(c.Attempts)
	if len(failed) > 0 {
		parts = append(parts, explainClass(failed, keySource))
	}
	switch {
	case c.Outcome == store.OutcomeOK && len(failed) > 0:
		last := &c.Attempts[len(c.Attempts)-1]
		if last.Provider != failed[0].Provider {
			parts = append(parts, fmt.Sprintf("the fallback (%s) answered", target(last)))
		} else {
			parts = append(parts, "a retry succeeded")
		}
	case c.Outcome == store.OutcomeClientCancelled && len(failed) == 0:
		parts = append(parts, "the client hung up before the answer was complete: nothing went wrong upstream")
	case c.Outcome == store.OutcomePartial && len(failed) == 0:
		parts = append(parts, "the stream broke after the client had received part of the answer")
	case c.Outcome != store.OutcomeOK && len(failed) == 0 && c.Error != "":
		parts = append(parts, "the client got: "+c.Error)
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, "; ")
	// No capital: most sentences start with a provider's name, which is lowercase.
	if !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

func failedAttempts(as []store.Attempt) []*store.Attempt {
	var out []*store.Attempt
	for i := range as {
		if attemptFailed(&as[i]) {
			out = append(out, &as[i])
		}
	}
	return out
}

func target(a *store.Attempt) string {
	if a.Model == "" {
		return a.Provider
	}
	return a.Provider + "/" + a.Model
}

// times says "once", "twice", "3 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// explainClass explains the most telling failure: the last one, counting how
// often the same thing happened.
func explainClass(failed []*store.Attempt, keySource func(string) KeySource) string {
	last := failed[len(failed)-1]
	n := 0
	for _, a := range failed {
		if a.ErrorClass == last.ErrorClass && a.Provider == last.Provider {
			n++
		}
	}
	p := last.Provider
	switch class(last) {
	case proxy.ClassRefused:
		host := hostOf(last.URL)
		hint := "is the server running?"
		if app := localApp(host); app != "" {
			hint = "is " + app + " running?"
		}
		return fmt.Sprintf("connection refused at %s: %s", host, hint)
	case proxy.ClassDNS:
		return fmt.Sprintf("the host name of %s (%s) did not resolve: check base_url and your network", p, hostOf(last.URL))
	case proxy.ClassTLS:
		return fmt.Sprintf("the TLS handshake with %s failed: check base_url (http vs https) or a proxy intercepting TLS", hostOf(last.URL))
	case proxy.ClassReset:
		return fmt.Sprintf("%s closed the connection before answering %s: a network hiccup or an overloaded server", p, times(n))
	case proxy.ClassFirstByteTimeout:
		return "no first byte within the first_byte_timeout: raise first_byte_timeout or pick a faster model"
	case proxy.ClassIdleTimeout:
		return fmt.Sprintf("%s went silent in the middle of the answer: raise idle_timeout if the model thinks for long", p)
	case proxy.ClassUpstream5xx:
		who := p
		if last.Status == 502 || last.Status == 504 {
			who = p + "'s gateway"
		}
		return fmt.Sprintf("%s answered %d %s: its service is degraded", who, last.Status, times(n))
	case proxy.ClassOverloaded:
		return fmt.Sprintf("%s said it is overloaded (%d) %s: wait, or add a fallback route", p, last.Status, times(n))
	case proxy.ClassRateLimited:
		return fmt.Sprintf("%s rate-limited the key (429) %s: slow down, raise your plan's limit or add a fallback", p, times(n))
	case proxy.ClassAuth:
		src := KeyNone
		if keySource != nil {
			src = keySource(p)
		}
		switch src {
		case KeyKeychain:
			return fmt.Sprintf("%d: the key in the keychain for %s was rejected: replace it", last.Status, p)
		case KeyEnv:
			return fmt.Sprintf("%d: the key from the environment for %s was rejected: replace it or store one in the keychain", last.Status, p)
		}
		return fmt.Sprintf("%d: %s rejected the request's key: add a key for %s in Providers", last.Status, p, p)
	case proxy.ClassNotFound:
		return fmt.Sprintf("%s does not know the model or endpoint (404): check the model name %q", p, last.Model)
	case proxy.ClassBadRequest:
		return fmt.Sprintf("%s refused the request itself (%d): see the response body for the reason", p, last.Status)
	case proxy.ClassMidStream:
		return fmt.Sprintf("the stream from %s broke after the client had received part of the answer", p)
	case proxy.ClassClientCancelled:
		return "the client hung up before the answer was complete"
	case proxy.ClassCircuitOpen:
		return fmt.Sprintf("%s was skipped: it failed repeatedly just before, so Gatehouse paused it for the circuit cooldown", p)
	case proxy.ClassProxy:
		return "Gatehouse itself failed to handle the request (" + last.Error + "): please report it"
	case proxy.ClassProxyAuth, proxy.ClassNetProxy, proxy.ClassTLSUntrusted:
		return explainNetwork(last)
	}
	if last.Status > 0 {
		return fmt.Sprintf("%s answered %d %s", p, last.Status, times(n))
	}
	return fmt.Sprintf("%s failed: %s", p, last.Error)
}

// hostOf is scheme://host:port of a URL, or the URL itself.
func hostOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return u
	}
	return pu.Scheme + "://" + pu.Host
}

// localApp names the local LLM server that usually listens on host's port.
func localApp(host string) string {
	switch {
	case strings.HasSuffix(host, ":11434"):
		return "Ollama"
	case strings.HasSuffix(host, ":1234"):
		return "LM Studio"
	}
	return ""
}

// explainNetwork explains the failures caused by the network between Gatehouse
// and a provider: the company proxy, or a certificate nobody here trusts.
func explainNetwork(a *store.Attempt) string {
	host := hostOf(a.URL)
	switch class(a) {
	case proxy.ClassProxyAuth:
		return fmt.Sprintf("the network's proxy refused to pass the call to %s without valid proxy credentials (407 Proxy Authentication Required): "+
			"put your proxy user and password in the proxy URL, http://user:password@proxy:port, in HTTPS_PROXY or in proxy_url (Settings, or the provider's dialog)", host)
	case proxy.ClassTLSUntrusted:
		return fmt.Sprintf("the certificate %s presented is signed by an authority this computer does not trust: "+
			"on a company network a proxy that inspects TLS does this; get its root certificate (a PEM file) from IT and set it as the CA file in Settings "+
			"(or in the provider's dialog for a server with its own CA); curl and other tools work only if they were given that file too", host)
	}
	return fmt.Sprintf("the network's proxy failed the call to %s (%s): check HTTPS_PROXY/HTTP_PROXY or proxy_url in Settings, "+
		"ask whoever runs the proxy whether it allows this host, or set the provider's proxy to \"none\" if it is reachable directly", host, a.Error)
}
