package proxy

import (
	"bytes"
	"os"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// hopHeaders are the hop-by-hop headers of RFC 9110 §7.6.1 (and the legacy ones
// net/http/httputil strips); fasthttp forwards them unless told otherwise.
var hopHeaders = map[string]bool{
	"connection":          true,
	"proxy-connection":    true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"te":                  true,
	"trailer":             true,
	"transfer-encoding":   true,
	"upgrade":             true,
}

// dropUpstream are request headers never forwarded: client credentials (the
// proxy injects the provider's own), framing that fasthttp sets itself, and
// browser context that providers would treat as a browser call.
var dropUpstream = map[string]bool{
	"authorization":   true,
	"x-api-key":       true,
	"x-goog-api-key":  true,
	"api-key":         true,
	"host":            true,
	"content-length":  true,
	"accept-encoding": true, // ask for identity: the proxy reads bodies
	"cookie":          true,
	"origin":          true,
	"referer":         true,
}

// dropDownstream are response headers not relayed to the client.
var dropDownstream = map[string]bool{
	"content-length":   true,
	"content-encoding": true,
	"set-cookie":       true,
	"date":             true,
	"server":           true,
}

// connectionTokens returns the lower-cased header names listed in Connection.
func connectionTokens(v []byte) []string {
	if len(v) == 0 {
		return nil
	}
	var out []string
	for _, f := range bytes.Split(v, []byte(",")) {
		if f = bytes.TrimSpace(f); len(f) > 0 {
			out = append(out, strings.ToLower(string(f)))
		}
	}
	return out
}

// copyRequestHeaders copies the client's end-to-end headers onto the upstream
// request, minus hop-by-hop headers, credentials and browser headers.
func copyRequestHeaders(dst *fasthttp.RequestHeader, src *fasthttp.RequestHeader) {
	extra := connectionTokens(src.Peek("Connection"))
	for k, v := range src.All() {
		name := lowerASCII(k)
		if hopHeaders[name] || dropUpstream[name] || strings.HasPrefix(name, "sec-") || contains(extra, name) {
			continue
		}
		dst.SetBytesKV(k, v)
	}
}

// copyResponseHeaders relays the upstream's end-to-end response headers.
func copyResponseHeaders(dst *fasthttp.ResponseHeader, src *fasthttp.ResponseHeader) {
	extra := connectionTokens(src.Peek("Connection"))
	for k, v := range src.All() {
		name := lowerASCII(k)
		if hopHeaders[name] || dropDownstream[name] || contains(extra, name) {
			continue
		}
		dst.SetBytesKV(k, v)
	}
}

// lowerASCII lower-cases a header name; common names avoid an allocation
// through the compiler's string(bytes) map-lookup optimisation at call sites.
func lowerASCII(b []byte) string {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return strings.ToLower(string(b))
		}
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clientKey is the credential the client sent, if any: Authorization: Bearer,
// x-api-key, x-goog-api-key, api-key or ?key=.
func clientKey(req *fasthttp.Request) string {
	if v := req.Header.Peek("Authorization"); len(v) > 0 {
		if k, ok := bytes.CutPrefix(v, []byte("Bearer ")); ok {
			return string(bytes.TrimSpace(k))
		}
		return ""
	}
	for _, h := range []string{"x-api-key", "x-goog-api-key", "api-key"} {
		if v := req.Header.Peek(h); len(v) > 0 {
			return string(v)
		}
	}
	if v := req.URI().QueryArgs().Peek("key"); len(v) > 0 {
		return string(v)
	}
	return ""
}

// keySource says where a provider's key came from.
type keySource string

const (
	sourceKeychain keySource = "keychain"
	sourceEnv      keySource = "env"
	sourceClient   keySource = "client"
	sourceNone     keySource = "none"
)

// resolveKey finds provider p's key: keychain, then key_env, then the client's
// own key as sent.
func (s *Server) resolveKey(p *config.Provider, client string) (string, keySource) {
	if s.opts.Keys != nil {
		if k, ok := s.opts.Keys.Secret(p.Name, ""); ok && k != "" {
			return k, sourceKeychain
		}
	}
	if p.KeyEnv != "" {
		if k := os.Getenv(p.KeyEnv); k != "" {
			return k, sourceEnv
		}
	}
	if client != "" {
		return client, sourceClient
	}
	return "", sourceNone
}

// captureRequestHeaders copies the client's headers for the call record. Values
// of credential headers are dropped here already; the history store redacts
// the rest before writing.
func captureHeaders(all func(yield func(k, v []byte) bool)) []Header {
	out := make([]Header, 0, 12)
	for k, v := range all {
		h := Header{Name: string(k)}
		switch lowerASCII(k) {
		case "authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "proxy-authorization":
			h.Value = "[REDACTED]"
		default:
			h.Value = string(v)
		}
		out = append(out, h)
	}
	return out
}
