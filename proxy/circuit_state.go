package proxy

import (
	"sort"
	"time"
)

// BypassCircuitHeader, set on a request (any value), lets it through to
// providers whose circuit is open: the desktop app's Replay sends it when the
// user asks to try a provider now (issue 16 §2). It is never forwarded. The
// call counts as the circuit's probe when none is in flight, so its success
// closes the circuit and its failure starts another cooldown.
const BypassCircuitHeader = "X-Gatehouse-Bypass-Circuit"

// CircuitHealth is the state of a provider's breaker.
type CircuitHealth string

// The breaker states.
const (
	CircuitHealthy CircuitHealth = "healthy" // no failure since the last success
	CircuitFailing CircuitHealth = "failing" // failures in a row, not yet enough to open
	CircuitOpen    CircuitHealth = "open"    // skipped until OpenUntil
	CircuitProbing CircuitHealth = "probing" // cooldown over: the next call (or the one in flight) tests it
)

// CircuitState is a read-only snapshot of one provider's breaker.
type CircuitState struct {
	Provider string
	Health   CircuitHealth
	// Failures is the count of retryable failures in a row (while closed).
	Failures int
	// OpenUntil is when an open circuit lets a probe through.
	OpenUntil time.Time
	// Open: calls skip the provider now (open, or half-open with its probe in
	// flight), as /metrics reports it.
	Open bool
}

// Circuits returns the breaker of every provider that has had a call since the
// server started, sorted by provider (the Providers screen, /metrics). A
// provider not listed is healthy.
func (s *Server) Circuits() []CircuitState {
	now := time.Now()
	s.circuits.mu.Lock()
	out := make([]CircuitState, 0, len(s.circuits.m))
	for name, c := range s.circuits.m {
		st := CircuitState{Provider: name, Health: CircuitHealthy, Failures: c.fails,
			Open: c.open && (now.Before(c.openUntil) || c.probing)}
		switch {
		case c.open && now.Before(c.openUntil):
			st.Health, st.OpenUntil = CircuitOpen, c.openUntil
		case c.open:
			st.Health, st.OpenUntil = CircuitProbing, c.openUntil
		case c.fails > 0:
			st.Health = CircuitFailing
		}
		out = append(out, st)
	}
	s.circuits.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

// ResetCircuit closes provider's circuit and forgets its failures, as if its
// last call had succeeded; verdicts of calls already in flight no longer count.
// It reports whether the circuit was open, and then tells Options.OnCircuit.
func (s *Server) ResetCircuit(provider string) bool {
	s.circuits.mu.Lock()
	c, ok := s.circuits.m[provider]
	wasOpen := ok && c.open
	if ok {
		c.fails, c.open, c.probing = 0, false, false
		c.openUntil = time.Time{}
		c.gen++
	}
	s.circuits.mu.Unlock()
	if wasOpen && s.opts.OnCircuit != nil {
		s.opts.OnCircuit(provider, false)
	}
	return wasOpen
}

// allowBypass is circuits.allow for a call that may bypass an open circuit
// (BypassCircuitHeader): such a call goes through, as the probe if none is in
// flight.
func (cs *circuits) allowBypass(name string, now time.Time, bypass bool) (ticket, bool, time.Duration) {
	t, ok, wait := cs.allow(name, now)
	if ok || !bypass {
		return t, ok, wait
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.get(name)
	if c.probing {
		return ticket{gen: c.gen}, true, 0
	}
	c.probing = true
	return ticket{gen: c.gen, probe: true}, true, 0
}
