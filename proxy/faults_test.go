package proxy

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// Issue 19.9: a verdict from a call that started before the circuit opened
// moves nothing, and a half-open circuit lets exactly one probe through.
func TestCircuitVerdictsAndSingleProbe(t *testing.T) {
	r := &config.Retry{CircuitFailures: 2, CircuitCooldown: config.Duration{Duration: time.Minute}}
	var cs circuits
	now := time.Now()
	old, _, _ := cs.allow("p", now) // a slow call started while closed
	for i := 0; i < 2; i++ {
		tk, _, _ := cs.allow("p", now)
		cs.failure("p", tk, r, now)
	}
	if !cs.isOpen("p", now) {
		t.Fatal("circuit not open after 2 failures")
	}
	if cs.success("p", old) || !cs.isOpen("p", now) {
		t.Error("a success from before the opening closed the circuit")
	}
	cs.failure("p", old, r, now.Add(50*time.Second))
	later := now.Add(61 * time.Second)
	var probes atomic.Int32
	var wg sync.WaitGroup
	tickets := make(chan ticket, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tk, ok, _ := cs.allow("p", later); ok {
				probes.Add(1)
				tickets <- tk
			}
		}()
	}
	wg.Wait()
	if n := probes.Load(); n != 1 {
		t.Fatalf("%d probes let through at once (a stale failure moved openUntil?), want 1", n)
	}
	probe := <-tickets
	cs.release("p", old) // a stale call ending must not clear the probe
	if _, ok, _ := cs.allow("p", later); ok {
		t.Error("a second probe was let through after a stale release")
	}
	if !cs.success("p", probe) || cs.isOpen("p", later) {
		t.Error("the probe's success did not close the circuit")
	}
}

func TestCircuitFailuresZeroIsOff(t *testing.T) {
	r := &config.Retry{CircuitFailures: 0, CircuitCooldown: config.Duration{Duration: time.Minute}}
	var cs circuits
	for i := 0; i < 100; i++ {
		tk, _, _ := cs.allow("p", time.Now())
		cs.failure("p", tk, r, time.Now())
	}
	if cs.isOpen("p", time.Now()) {
		t.Error("circuit_failures = 0 opened the breaker")
	}
}

func TestAddrWhileServing(t *testing.T) {
	up := newFakeUpstream(t)
	s, err := New(testConfig(up, ""), Options{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln) //nolint:errcheck
	defer s.srv.Shutdown()
	for i := 0; i < 1000 && s.Addr() == ""; i++ {
		time.Sleep(time.Millisecond)
	}
	if s.Addr() != ln.Addr().String() {
		t.Errorf("Addr() = %q, want %q", s.Addr(), ln.Addr())
	}
}

func TestReloadRaisesMaxBodyBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("70 MiB through the race detector takes over a minute")
	}
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	cfg.MaxBodyBytes = 1 << 20
	p := newTestProxy(t, cfg, nil)
	raised := testConfig(up, "")
	raised.MaxBodyBytes = 100 << 20
	p.Reload(raised)
	// 70 MiB, over the hard limit the start-up value used to fix (64 MiB); not
	// JSON from its first byte, so the handler answers at once.
	body := append([]byte("x"), bytes.Repeat([]byte(" "), 70<<20)...)
	resp, b := p.do(t, "POST", "/v1/chat/completions", body)
	if resp.StatusCode() != 400 || !bytes.Contains(b, []byte("malformed JSON")) {
		t.Fatalf("status %d, want the handler's 400 (the body is under the raised limit): %.300s", resp.StatusCode(), b)
	}
}

func TestGatehouseTokenNotForwarded(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","messages":[]}`), "X-Gatehouse-Token", "admin-secret")
	if v, ok := up.last().headers["x-gatehouse-token"]; ok {
		t.Errorf("X-Gatehouse-Token %q reached the upstream", v)
	}
}
