package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// tap is a recording reverse proxy between a client and Gatehouse: it keeps every
// request exactly as the client sent it (extra endpoints included) and the status
// Gatehouse answered, for the assertions and for testdata/conformance/captured/.
type tap struct {
	url  string
	mu   sync.Mutex
	reqs []capturedRequest
}

// capturedRequest is one client request, secrets masked.
type capturedRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body,omitempty"`
	// BodyText holds a body that is not JSON.
	BodyText string `json:"body_text,omitempty"`
	// Status is what Gatehouse answered.
	Status int `json:"status"`
}

// secretHeaders are masked in captures: whatever a client puts there is a key.
var secretHeaders = map[string]bool{"authorization": true, "x-api-key": true, "x-goog-api-key": true,
	"api-key": true, "cookie": true, "proxy-authorization": true}

func startTap(t testing.TB, target string) *tap {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1 // streams pass event by event
	rp.ModifyResponse = func(resp *http.Response) error {
		i := resp.Request.Context().Value(tapIndex{}).(int)
		tp.mu.Lock()
		tp.reqs[i].Status = resp.StatusCode
		tp.mu.Unlock()
		return nil
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		c := capturedRequest{Method: r.Method, Path: r.URL.RequestURI(), Headers: map[string]string{}}
		for k, v := range r.Header {
			k = strings.ToLower(k)
			c.Headers[k] = strings.Join(v, ", ")
			if secretHeaders[k] {
				c.Headers[k] = "<redacted>"
			}
		}
		switch {
		case len(body) == 0:
		case json.Valid(body):
			c.Body = body
		default:
			c.BodyText = string(body)
		}
		tp.mu.Lock()
		i := len(tp.reqs)
		tp.reqs = append(tp.reqs, c)
		tp.mu.Unlock()
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tapIndex{}, i)))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { _ = srv.Close() })
	tp.url = "http://" + ln.Addr().String()
	return tp
}

type tapIndex struct{}

func (tp *tap) requests() []capturedRequest {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]capturedRequest(nil), tp.reqs...)
}

// endpoints lists "METHOD path → status" for each request in order, for failure messages.
func (tp *tap) endpoints() string {
	var lines []string
	for _, r := range tp.requests() {
		lines = append(lines, r.Method+" "+r.Path+" → "+strconv.Itoa(r.Status))
	}
	return strings.Join(lines, "\n")
}

// forMode returns the requests sdk.mjs made for mode (all of them when the run
// had only one mode).
func (tp *tap) forMode(mode string, only bool) []capturedRequest {
	var out []capturedRequest
	for _, r := range tp.requests() {
		if only || r.Headers["x-conformance-mode"] == mode {
			out = append(out, r)
		}
	}
	return out
}
