package ui

import (
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// Notification rules (issue 6): a provider "starts failing" when its circuit
// opens or after failStreak failed calls in a row, and "recovers" at its next
// success or when its circuit closes. Each provider gets at most one notification
// per notifyEvery.
const (
	failStreak  = 3
	notifyEvery = 5 * time.Minute
	// recentFailure is how long a failure keeps the tray icon in its failure state.
	recentFailure = 5 * time.Minute
)

// healthWatch follows providers' health from finished calls and circuit events
// and decides when to notify. It is safe for concurrent use.
type healthWatch struct {
	now     func() time.Time
	enabled func() bool                 // nil: always on
	send    func(title, content string) // called without the lock held

	mu          sync.Mutex
	streak      map[string]int
	failing     map[string]bool
	lastSent    map[string]time.Time
	lastFailure time.Time
}

func newHealthWatch(now func() time.Time, enabled func() bool, send func(title, content string)) *healthWatch {
	return &healthWatch{
		now: now, enabled: enabled, send: send,
		streak: map[string]int{}, failing: map[string]bool{}, lastSent: map[string]time.Time{},
	}
}

// observe takes a finished call into account: for each provider it tried, the
// call counts as a success if any attempt there succeeded, else as a failure.
func (h *healthWatch) observe(c *store.Call) {
	var out [][2]string
	h.mu.Lock()
	if Failed(c) && c.Outcome != store.OutcomeClientCancelled {
		h.lastFailure = h.now()
	}
	ok := map[string]bool{}
	var last = map[string]*store.Attempt{}
	var order []string
	for i := range c.Attempts {
		a := &c.Attempts[i]
		if a.Provider == "" || class(a) == proxy.ClassClientCancelled || a.Skipped() {
			continue
		}
		if _, seen := last[a.Provider]; !seen {
			order = append(order, a.Provider)
		}
		last[a.Provider] = a
		if !attemptFailed(a) {
			ok[a.Provider] = true
		}
	}
	for _, p := range order {
		if ok[p] {
			h.streak[p] = 0
			if m, changed := h.changeLocked(p, false, "its last call succeeded"); changed {
				out = append(out, m)
			}
			continue
		}
		h.streak[p]++
		if h.streak[p] >= failStreak {
			why := fmt.Sprintf("%d failed calls in a row, the last: %s", h.streak[p], attemptError(last[p]))
			if m, changed := h.changeLocked(p, true, why); changed {
				out = append(out, m)
			}
		}
	}
	h.mu.Unlock()
	h.deliver(out)
}

// circuit takes a circuit event into account.
func (h *healthWatch) circuit(provider string, open bool) {
	why := "its circuit closed again"
	if open {
		why = "repeated failures opened its circuit: Gatehouse skips it for a while"
		h.mu.Lock()
		h.lastFailure = h.now()
		h.mu.Unlock()
	}
	h.mu.Lock()
	m, ok := h.changeLocked(provider, open, why)
	h.mu.Unlock()
	if ok {
		h.deliver([][2]string{m})
	}
}

// changeLocked records provider's new state and returns the notification to
// send, if the state changed and the provider was not notified recently.
func (h *healthWatch) changeLocked(provider string, failing bool, why string) ([2]string, bool) {
	if h.failing[provider] == failing {
		return [2]string{}, false
	}
	h.failing[provider] = failing
	now := h.now()
	if last, ok := h.lastSent[provider]; ok && now.Sub(last) < notifyEvery {
		return [2]string{}, false
	}
	h.lastSent[provider] = now
	if failing {
		return [2]string{provider + " is failing", why}, true
	}
	return [2]string{provider + " recovered", why}, true
}

func (h *healthWatch) deliver(msgs [][2]string) {
	if h.enabled != nil && !h.enabled() {
		return
	}
	for _, m := range msgs {
		h.send(m[0], m[1])
	}
}

// failedAt records a failure at t (from history, at start) unless a later one
// is known.
func (h *healthWatch) failedAt(t time.Time) {
	h.mu.Lock()
	if t.After(h.lastFailure) {
		h.lastFailure = t
	}
	h.mu.Unlock()
}

// failedRecently reports whether a call failed within recentFailure.
func (h *healthWatch) failedRecently() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lastFailure.IsZero() && h.now().Sub(h.lastFailure) < recentFailure
}

// attemptError is an attempt's outcome in a few words: "502", "connection refused".
func attemptError(a *store.Attempt) string {
	switch {
	case a.Status > 0 && class(a) != proxy.ClassNone:
		return fmt.Sprintf("%d %s", a.Status, classWords(class(a)))
	case a.Status > 0:
		return fmt.Sprint(a.Status)
	case class(a) != proxy.ClassNone:
		return classWords(class(a))
	}
	return a.Error
}

// classWords names an error class for people.
func classWords(c proxy.ErrorClass) string {
	switch c {
	case proxy.ClassDNS:
		return "DNS failure"
	case proxy.ClassRefused:
		return "connection refused"
	case proxy.ClassReset:
		return "connection reset"
	case proxy.ClassTLS:
		return "TLS failure"
	case proxy.ClassFirstByteTimeout:
		return "no first byte in time"
	case proxy.ClassIdleTimeout:
		return "went silent"
	case proxy.ClassUpstream5xx:
		return "server error"
	case proxy.ClassOverloaded:
		return "overloaded"
	case proxy.ClassRateLimited:
		return "rate limited"
	case proxy.ClassAuth:
		return "key rejected"
	case proxy.ClassBadRequest:
		return "bad request"
	case proxy.ClassNotFound:
		return "not found"
	case proxy.ClassMidStream:
		return "stream broke"
	case proxy.ClassClientCancelled:
		return "client hung up"
	case proxy.ClassCircuitOpen:
		return "skipped (circuit open)"
	case proxy.ClassProxy:
		return "Gatehouse error"
	case proxy.ClassNetProxy:
		return "network proxy failed"
	case proxy.ClassProxyAuth:
		return "proxy wants credentials"
	case proxy.ClassTLSUntrusted:
		return "untrusted certificate"
	}
	return string(c)
}
