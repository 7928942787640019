package proxy

import (
	"bytes"
	"os"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// headerClass says what the proxy does with a header, by name. Every header
// of every call is classified: one lookup answers all the questions.
type headerClass uint8

const (
	// classHop: a hop-by-hop header of RFC 9110 §7.6.1 (and the legacy ones
	// net/http/httputil strips); fasthttp forwards them unless told otherwise.
	classHop headerClass = 1 << iota
	// classNotUpstream: a request header never forwarded: client credentials
	// (the proxy injects the provider's own), framing that fasthttp sets
	// itself, and browser context that providers would treat as a browser call.
	classNotUpstream
	// classNotDownstream: a response header not relayed to the client.
	classNotDownstream
	// classCredential: a header whose value the record never keeps.
	classCredential
)

// headerClasses are the classified header names, lower-case.
var headerClasses = map[string]headerClass{
	"connection":          classHop,
	"proxy-connection":    classHop,
	"keep-alive":          classHop,
	"proxy-authenticate":  classHop,
	"proxy-authorization": classHop | classCredential,
	"te":                  classHop,
	"trailer":             classHop,
	"transfer-encoding":   classHop,
	"upgrade":             classHop,

	"authorization":   classNotUpstream | classCredential,
	"x-api-key":       classNotUpstream | classCredential,
	"x-goog-api-key":  classNotUpstream | classCredential,
	"api-key":         classNotUpstream | classCredential,
	"host":            classNotUpstream,
	"content-length":  classNotUpstream | classNotDownstream,
	"accept-encoding": classNotUpstream, // ask for identity: the proxy reads bodies
	"cookie":          classNotUpstream | classCredential,
	"origin":          classNotUpstream,
	"referer":         classNotUpstream,
	// Gatehouse's own admin token is for Gatehouse only (issue 19.9).
	"x-gatehouse-token": classNotUpstream,
	// The app's request to bypass an open circuit (circuit_state.go).
	"x-gatehouse-bypass-circuit": classNotUpstream,

	"content-encoding": classNotDownstream,
	"set-cookie":       classNotDownstream | classCredential,
	"date":             classNotDownstream,
	"server":           classNotDownstream,
}

// classOf classifies header name k (any case) without allocating.
func classOf(k []byte) headerClass {
	if len(k) > 32 {
		return 0
	}
	var buf [32]byte
	for i, c := range k {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return headerClasses[string(buf[:len(k)])]
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
		if classOf(k)&(classHop|classNotUpstream) != 0 || hasPrefixFold(k, "sec-") || containsFold(extra, k) {
			continue
		}
		dst.SetCanonical(k, v) // fasthttp parsed k: it is in canonical form already
	}
}

// copyResponseHeaders relays the upstream's end-to-end response headers.
func copyResponseHeaders(dst *fasthttp.ResponseHeader, src *fasthttp.ResponseHeader) {
	extra := connectionTokens(src.Peek("Connection"))
	for k, v := range src.All() {
		if classOf(k)&(classHop|classNotDownstream) != 0 || containsFold(extra, k) {
			continue
		}
		dst.SetCanonical(k, v)
	}
}

func hasPrefixFold(k []byte, prefix string) bool {
	return len(k) >= len(prefix) && strings.EqualFold(string(k[:len(prefix)]), prefix)
}

func containsFold(list []string, k []byte) bool {
	for _, v := range list {
		if strings.EqualFold(v, string(k)) {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases a header name.
func lowerASCII(b []byte) string { return strings.ToLower(string(b)) }

// clientCred is a key the client sent and the format whose auth header it
// came in.
type clientCred struct {
	key    string
	format config.Format
}

// clientCreds returns the keys the client sent: Authorization: Bearer and
// api-key (openai), x-api-key (anthropic), x-goog-api-key and ?key= (gemini).
// Nil when it sent none (no allocation).
func clientCreds(req *fasthttp.Request) []clientCred {
	var out []clientCred
	add := func(v []byte, f config.Format) {
		// A client token is Gatehouse's own: never forwarded (issue 13).
		if len(v) > 0 && !isClientToken(v) {
			out = append(out, clientCred{key: string(v), format: f})
		}
	}
	if v := req.Header.Peek("Authorization"); len(v) > 0 {
		if k, ok := bytes.CutPrefix(v, []byte("Bearer ")); ok {
			add(bytes.TrimSpace(k), config.FormatOpenAI)
		}
	}
	add(req.Header.Peek("api-key"), config.FormatOpenAI)
	add(req.Header.Peek("x-api-key"), config.FormatAnthropic)
	add(req.Header.Peek("x-goog-api-key"), config.FormatGemini)
	add(req.URI().QueryArgs().Peek("key"), config.FormatGemini)
	return out
}

// keySource says where a provider's key came from.
type keySource string

const (
	sourceKeychain keySource = "keychain"
	sourceEnv      keySource = "env"
	sourceClient   keySource = "client"
	sourceNone     keySource = "none"
)

// resolveKey finds provider p's key: keychain, then key_env, then a key the
// client sent, only where it belongs (issue 19.4): p accepts client keys
// (client_keys) and the key came in the auth header of p's format.
func (s *Server) resolveKey(p *config.Provider, creds []clientCred) (string, keySource) {
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
	if p.AcceptsClientKeys() {
		for _, c := range creds {
			if c.format == p.Format {
				return c.key, sourceClient
			}
		}
	}
	return "", sourceNone
}

// clientHints returns the upstream error response's headers a client needs to
// decide whether and when to retry: Retry-After, retry-after-ms, the
// rate-limit families and the request ids (issue 19.2).
func clientHints(h *fasthttp.ResponseHeader) []Header {
	var out []Header
	for k, v := range h.All() {
		name := lowerASCII(k)
		switch {
		case name == "retry-after", name == "retry-after-ms", name == "x-request-id", name == "request-id",
			strings.HasPrefix(name, "x-ratelimit-"), strings.HasPrefix(name, "anthropic-ratelimit-"):
			out = append(out, Header{Name: string(k), Value: string(v)})
		}
	}
	return out
}

// captureHeaders copies headers for the call record into one block of
// "Name: value\n" lines (one allocation); credential values are replaced here
// already, and the history store redacts the rest before writing.
func captureHeaders(all func(yield func(k, v []byte) bool)) []byte {
	n := 0
	for k, v := range all {
		n += len(k) + len(v) + 3
	}
	out := make([]byte, 0, n+64)
	for k, v := range all {
		out = appendCapturedHeader(out, k, v)
	}
	return out
}

// appendCapturedHeader appends one "Name: value\n" line of a captured header
// block, a credential's value replaced.
func appendCapturedHeader(out, k, v []byte) []byte {
	out = append(out, k...)
	out = append(out, ": "...)
	if isCredentialHeader(k) {
		out = append(out, "[REDACTED]"...)
	} else {
		out = append(out, v...)
	}
	return append(out, '\n')
}

// captureRequest captures the client's request: its header block and its body
// (at most limit bytes) in one allocation. The headers are read as they came
// over the wire (fasthttp keeps that block): ranging over All() cost a
// twentieth of the request path's recording (issue 12). A request that was not
// parsed from the wire (built in a test) is read through All().
func captureRequest(h *fasthttp.RequestHeader, body []byte, limit int) (block, bodyCopy []byte, truncated bool) {
	raw := h.RawHeaders()
	if len(raw) == 0 {
		block = captureHeaders(h.All())
		bodyCopy, truncated = capCopy(body, limit)
		return block, bodyCopy, truncated
	}
	capped, truncated := capSlice(body, limit)
	out := make([]byte, 0, len(capped)+len(raw)+64)
	out = append(out, capped...)
	bodyCopy = out[:len(capped):len(capped)]
	out = captureLines(out, raw, nil, false)
	return out[len(capped):len(out):len(out)], bodyCopy, truncated
}

// captureSent is captureHeaders for an attempt's request as it will be sent.
// It reads fasthttp's serialized header (Header()): ranging over All() costs
// several allocations a call, this one, which also leaves room for the
// response's headers (spare: captureReceived).
func captureSent(h *fasthttp.RequestHeader) (block, spare []byte) {
	raw := h.Header()
	out := captureSerialized(make([]byte, 0, len(raw)+512), raw, nil, false)
	return out[:len(out):len(out)], out[len(out):]
}

// captureReceived is captureSent for the upstream's response, into spare's
// room when it fits. fasthttp serializes a response with the local clock's
// Date in place of the one received: the upstream's own is put back (or
// none, if it sent none).
func captureReceived(h *fasthttp.ResponseHeader, spare []byte) []byte {
	return captureSerialized(spare[:0], h.Header(), h.Peek(fasthttp.HeaderDate), true)
}

// captureSerialized appends to out a serialized header (the request or
// status line, then "Name: value\r\n" lines) as a captured header block; with
// fixDate, a Date line gets the value date (dropped when date is empty).
func captureSerialized(out, raw, date []byte, fixDate bool) []byte {
	if i := bytes.Index(raw, []byte("\r\n")); i >= 0 {
		raw = raw[i+2:] // the request or status line
	}
	return captureLines(out, raw, date, fixDate)
}

// captureLines is captureSerialized for "Name: value\r\n" lines alone. A line
// that starts with a space or a tab continues the value above it (obsolete
// folding, kept in a block read off the wire): it is joined to that value, or
// blanked with it when that header is a credential.
func captureLines(out, raw, date []byte, fixDate bool) []byte {
	start := len(out)
	credential := false // the last header line was a credential's
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !credential && len(out) > start {
				out = append(out[:len(out)-1], ' ') // the value's line end becomes a space
				out = append(append(out, bytes.TrimLeft(line, " \t")...), '\n')
			}
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue // the blank line at the end
		}
		k, v := line[:i], bytes.TrimLeft(line[i+1:], " ")
		credential = isCredentialHeader(k)
		switch {
		case fixDate && len(k) == len(fasthttp.HeaderDate) && bytes.EqualFold(k, []byte(fasthttp.HeaderDate)):
			if len(date) > 0 {
				out = appendCapturedHeader(out, k, date)
			}
		default:
			out = appendCapturedHeader(out, k, v)
		}
	}
	return out
}

// credentialLens marks the name lengths of the credential headers: most
// headers are ruled out without a lookup (every header of every call is
// checked).
var credentialLens = func() (l [32]bool) {
	for k, c := range headerClasses {
		if c&classCredential != 0 {
			l[len(k)] = true
		}
	}
	return l
}()

func isCredentialHeader(k []byte) bool {
	return len(k) < len(credentialLens) && credentialLens[len(k)] && classOf(k)&classCredential != 0
}
