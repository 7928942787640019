package ui

import (
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// Failed reports whether a call counts as failed: anything but a clean ok.
func Failed(c *store.Call) bool { return c.Failed() }

// ms is a stored millisecond count as a duration.
func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// tokenCount is a stored token count, -1 when unknown (nil).
func tokenCount(n *int64) int64 {
	if n == nil {
		return -1
	}
	return *n
}

// class is an attempt's error class as the proxy names it.
func class(a *store.Attempt) proxy.ErrorClass { return proxy.ErrorClass(a.ErrorClass) }

// attemptFailed reports whether an attempt did not get a usable answer.
func attemptFailed(a *store.Attempt) bool {
	return class(a) != proxy.ClassNone || a.Error != "" || a.Status >= 400
}

// bodyOf is a stored message's body ("" when none was stored).
func bodyOf(m *store.Message) string {
	if m == nil {
		return ""
	}
	return m.Body
}
