package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// backoff is the full-jitter delay before retry n (n ≥ 1):
// rand(0, min(max, base·2^(n-1))).
func backoff(r *config.Retry, n int) time.Duration {
	ceiling := r.MaxDelay.Duration
	if n-1 < 30 {
		if d := r.BaseDelay.Duration << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// retryAfter reads retry-after-ms, then Retry-After (seconds or an HTTP date).
// It returns 0 when the response gives no hint.
func retryAfter(h *fasthttp.ResponseHeader, now time.Time) time.Duration {
	if v := h.Peek("retry-after-ms"); len(v) > 0 {
		if ms, err := strconv.ParseFloat(string(v), 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(string(h.Peek("Retry-After")))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http1Date(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func http1Date(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an HTTP date")
}

// sleep waits d or until gone is closed or the server is done; it reports
// whether the wait completed.
func sleep(gone <-chan struct{}, server context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-gone:
		return false
	case <-server.Done():
		return false
	}
}

// classifyStatus gives the error class of an upstream error status.
func classifyStatus(status int) ErrorClass {
	switch {
	case status == 429:
		return ClassRateLimited
	case status == 503 || status == 529:
		return ClassOverloaded
	case status == 401 || status == 403:
		return ClassAuth
	case status == 407: // only a proxy sends it (plain-HTTP forwarding)
		return ClassProxyAuth
	case status == 404:
		return ClassNotFound
	case status == 408:
		return ClassFirstByteTimeout
	case status >= 500:
		return ClassUpstream5xx
	case status >= 400:
		return ClassBadRequest
	}
	return ClassNone
}

// classifyError gives the error class of a transport error. firstByte tells
// whether any response byte had arrived (a timeout before is first_byte_timeout,
// after is idle_timeout).
func classifyError(err error, gotBytes bool) ErrorClass {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var alertErr tls.AlertError
	if class, ok := egressClass(err); ok {
		return class
	}
	switch {
	case errors.As(err, &dnsErr):
		return ClassDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassRefused
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &recErr), errors.As(err, &alertErr):
		return ClassTLS
	case isTimeout(err):
		if gotBytes {
			return ClassIdleTimeout
		}
		return ClassFirstByteTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, fasthttp.ErrConnectionClosed),
		errors.Is(err, net.ErrClosed):
		return ClassReset
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "no such host"):
		return ClassDNS
	case strings.Contains(msg, "connection refused"):
		return ClassRefused
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return ClassTLS
	}
	return ClassReset
}

func isTimeout(err error) bool {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, fasthttp.ErrDialTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// failStatus is the status a client gets when the last attempt failed without
// an upstream response: 504 for timeouts, 502 otherwise.
func failStatus(c ErrorClass) int {
	if c == ClassFirstByteTimeout || c == ClassIdleTimeout {
		return fasthttp.StatusGatewayTimeout
	}
	return fasthttp.StatusBadGateway
}

// circuits holds one breaker per provider.
type circuits struct {
	mu sync.Mutex
	m  map[string]*circuit
}

// circuit is a provider's breaker: after `failures` consecutive retryable
// failures it opens for `cooldown`; then one probe is let through, whose result
// closes or re-opens it. gen counts openings: a verdict from a call that
// started in another generation (before the circuit opened, or a probe of an
// earlier opening) moves nothing (issue 19.9).
type circuit struct {
	fails     int
	openUntil time.Time
	probing   bool
	open      bool
	gen       uint64
}

// ticket is what allow hands a call: the generation it started in and whether
// it is the half-open probe.
type ticket struct {
	gen   uint64
	probe bool
}

func (cs *circuits) get(name string) *circuit {
	if cs.m == nil {
		cs.m = make(map[string]*circuit)
	}
	c, ok := cs.m[name]
	if !ok {
		c = &circuit{}
		cs.m[name] = c
	}
	return c
}

// allow reports whether a call may go to provider name now, and how long its
// circuit stays open when it may not. Exactly one call at a time is the probe
// of a half-open circuit.
func (cs *circuits) allow(name string, now time.Time) (ticket, bool, time.Duration) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.get(name)
	if !c.open {
		return ticket{gen: c.gen}, true, 0
	}
	if now.Before(c.openUntil) {
		return ticket{}, false, c.openUntil.Sub(now)
	}
	if c.probing {
		return ticket{}, false, 0
	}
	c.probing = true // half-open: this call is the probe
	return ticket{gen: c.gen, probe: true}, true, 0
}

// isOpen reports whether the provider's circuit is open (probe not yet due).
func (cs *circuits) isOpen(name string, now time.Time) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.get(name)
	return c.open && (now.Before(c.openUntil) || c.probing)
}

// success records a successful call; it reports whether the circuit closed.
func (cs *circuits) success(name string, t ticket) (closed bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.get(name)
	if t.gen != c.gen {
		return false // started before the circuit (re)opened
	}
	if !c.open {
		c.fails = 0
		return false
	}
	if !t.probe {
		return false
	}
	c.fails, c.probing, c.open = 0, false, false
	return true
}

// failure records a retryable failure; it reports whether the circuit opened
// and, when this failure opened it or (a failed probe) re-opened it, until
// when. With r.CircuitFailures = 0 the breaker is off.
func (cs *circuits) failure(name string, t ticket, r *config.Retry, now time.Time) (opened bool, until time.Time) {
	if r.CircuitFailures <= 0 {
		return false, time.Time{}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.get(name)
	if t.gen != c.gen {
		return false, time.Time{}
	}
	if c.open {
		if !t.probe {
			return false, time.Time{}
		}
		// A failed probe re-opens the circuit for another cooldown.
		c.probing = false
		c.openUntil = now.Add(r.CircuitCooldown.Duration)
		c.gen++
		return false, c.openUntil
	}
	c.fails++
	if c.fails >= r.CircuitFailures {
		c.open, c.probing = true, false
		c.openUntil = now.Add(r.CircuitCooldown.Duration)
		c.gen++
		return true, c.openUntil
	}
	return false, time.Time{}
}

// release ends a probe that had no verdict (a client cancel, a 4xx).
func (cs *circuits) release(name string, t ticket) {
	if !t.probe {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c := cs.get(name); c.gen == t.gen {
		c.probing = false
	}
}
