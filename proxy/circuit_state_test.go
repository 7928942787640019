package proxy

import (
	"sync"
	"testing"
	"time"
)

// TestCircuitStateResetAndBypass follows one provider's breaker through the
// snapshot the Providers screen shows (issue 16 §2): failing, open with its
// cooldown, a replay that bypasses it (and, succeeding, closes it), then Reset.
func TestCircuitStateResetAndBypass(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	cfg.Retry.Attempts = 1
	cfg.Retry.CircuitFailures = 2
	cfg.Retry.CircuitCooldown.Duration = time.Minute
	var mu sync.Mutex
	var events []bool
	p := newTestProxyWith(t, cfg, keys{"oai/": "k"}, func(name string, open bool) {
		if name == "oai" {
			mu.Lock()
			events = append(events, open)
			mu.Unlock()
		}
	})
	body := []byte(`{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}`)
	state := func() CircuitState {
		for _, s := range p.Circuits() {
			if s.Provider == "oai" {
				return s
			}
		}
		return CircuitState{Provider: "oai", Health: CircuitHealthy}
	}
	call := func(headers ...string) (int, *Call) {
		t.Helper()
		resp, _ := p.do(t, "POST", "/v1/chat/completions", body, headers...)
		return resp.StatusCode(), p.rec.next(t)
	}

	up.then(step{status: 503, body: []byte(`{"error":{"message":"busy"}}`)})
	call()
	if s := state(); s.Health != CircuitFailing || s.Failures != 1 {
		t.Errorf("after one failure: %+v, want failing with 1 failure", s)
	}
	up.then(step{status: 503, body: []byte(`{"error":{"message":"busy"}}`)})
	opened := time.Now()
	call()
	s := state()
	if s.Health != CircuitOpen || s.OpenUntil.Before(opened.Add(50*time.Second)) || s.OpenUntil.After(time.Now().Add(time.Minute)) {
		t.Errorf("after two failures: %+v, want open for about a minute", s)
	}
	sent := len(up.requests())
	if _, c := call(); len(c.Attempts) != 1 || c.Attempts[0].Class != ClassCircuitOpen || len(up.requests()) != sent {
		t.Errorf("a call while open: attempts %+v, upstream saw %d new requests; want it skipped", c.Attempts, len(up.requests())-sent)
	}

	// Replay past the open circuit: it reaches the upstream, without the header.
	status, c := call(BypassCircuitHeader, "1")
	if status != 200 || len(c.Attempts) != 1 || c.Attempts[0].Class != ClassNone {
		t.Fatalf("bypassing call: status %d, attempts %+v; want it sent and answered", status, c.Attempts)
	}
	if h, ok := up.last().headers["x-gatehouse-bypass-circuit"]; ok {
		t.Errorf("the upstream got the bypass header (%q)", h)
	}
	if s := state(); s.Health != CircuitHealthy {
		t.Errorf("after the bypassing call succeeded: %+v, want healthy", s)
	}

	for range 2 {
		up.then(step{status: 503, body: []byte(`{"error":{"message":"busy"}}`)})
		call()
	}
	if s := state(); s.Health != CircuitOpen {
		t.Fatalf("open again: %+v", s)
	}
	if !p.ResetCircuit("oai") {
		t.Error("ResetCircuit of an open circuit reported it closed")
	}
	if s := state(); s.Health != CircuitHealthy || s.Failures != 0 {
		t.Errorf("after Reset: %+v, want healthy", s)
	}
	if status, c := call(); status != 200 || c.Attempts[0].Class != ClassNone {
		t.Errorf("after Reset the call got %d, attempts %+v", status, c.Attempts)
	}
	if p.ResetCircuit("oai") {
		t.Error("ResetCircuit of a closed circuit reported it open")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 4 || !events[0] || events[1] || !events[2] || events[3] {
		t.Errorf("OnCircuit events %v, want open, closed (bypass), open, closed (reset)", events)
	}
}

// A paused call shows the model the body names (issue 16 §4): routing never
// happened, yet the list needs a model.
func TestPausedCallRecordsItsModel(t *testing.T) {
	p := newTestProxy(t, testConfig(newFakeUpstream(t), ""), nil)
	p.SetPaused(true)
	resp, _ := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`))
	c := p.rec.next(t)
	if resp.StatusCode() != 503 || c.Model != "gpt-4.1" {
		t.Errorf("paused call: status %d, model %q; want 503 and gpt-4.1", resp.StatusCode(), c.Model)
	}
	resp, _ = p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[}`))
	if c := p.rec.next(t); c.Model != "gpt-4.1" {
		t.Errorf("call paused with malformed JSON: model %q, want gpt-4.1", c.Model)
	}
}
