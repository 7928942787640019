package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/proxy/sse"
)

// streamClient sends a request and returns a reader of the raw response.
func streamClient(t *testing.T, p *testProxy, path, body string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading headers: %v (%q)", err, head.String())
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	return conn, br, head.String()
}

// readChunk reads one HTTP/1.1 chunk of a chunked body.
func readChunk(t *testing.T, br *bufio.Reader) []byte {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("chunk size: %v", err)
	}
	var n int
	for _, c := range strings.TrimSpace(line) {
		n *= 16
		switch {
		case c >= '0' && c <= '9':
			n += int(c - '0')
		case c >= 'a' && c <= 'f':
			n += int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			n += int(c-'A') + 10
		}
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatalf("chunk body: %v", err)
	}
	return b[:n]
}

func TestStreamRelaysEachEventBeforeTheNext(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	events := splitEvents(readFixture(t, "openai/chat/stream_text.sse"))
	received := make(chan []byte, len(events))
	up.then(step{events: events, gate: func(i int) {
		// The upstream writes event i only after the client has event i-1:
		// proves nothing is buffered in between.
		select {
		case <-received:
		case <-time.After(3 * time.Second):
			t.Errorf("event %d did not reach the client before the next was sent", i-1)
		}
	}})
	_, br, head := streamClient(t, p, "/v1/chat/completions", `{"model":"gpt-4.1","stream":true,"messages":[]}`)
	for _, h := range []string{"Content-Type: text/event-stream", "Cache-Control: no-cache", "X-Accel-Buffering: no", "X-Gatehouse-Call: "} {
		if !strings.Contains(head, h) {
			t.Errorf("response headers lack %q:\n%s", h, head)
		}
	}
	var got []byte
	for i := range events {
		chunk := readChunk(t, br)
		if !bytes.Equal(chunk, events[i]) {
			t.Fatalf("chunk %d = %q, want the upstream event %q", i, chunk, events[i])
		}
		got = append(got, chunk...)
		received <- chunk
	}
	if end := readChunk(t, br); len(end) != 0 {
		t.Errorf("expected the end of the body, got %q", end)
	}
	c := p.rec.next(t)
	if c.Outcome != OutcomeOK || !c.Stream || !bytes.Equal(c.Events, got) {
		t.Errorf("record outcome %s stream %v, events equal %v", c.Outcome, c.Stream, bytes.Equal(c.Events, got))
	}
	if c.TTFB <= 0 || c.TTFB > c.Duration {
		t.Errorf("ttfb %v, duration %v", c.TTFB, c.Duration)
	}
}

func TestMidStreamFailureEndsWithClientFormatError(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, fixture string
		keep                      int
		wantTail                  string
	}{
		{"openai", "/v1/chat/completions", `{"model":"gpt-4.1","stream":true,"messages":[]}`, "openai/chat/stream_text.sse", 3, `data: {"error":`},
		{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4-5","stream":true,"max_tokens":5,"messages":[]}`, "anthropic/messages/stream_text.sse", 4, "event: error\ndata: {\"type\":\"error\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeUpstream(t)
			p := newTestProxy(t, testConfig(up, ""), nil)
			events := splitEvents(readFixture(t, tc.fixture))
			up.then(step{events: events[:tc.keep]}) // the upstream stops without its end marker
			resp, body := p.do(t, "POST", tc.path, []byte(tc.body))
			if resp.StatusCode() != 200 {
				t.Fatalf("status %d", resp.StatusCode())
			}
			if !bytes.HasPrefix(body, bytes.Join(events[:tc.keep], nil)) {
				t.Errorf("the events before the break were not relayed untouched")
			}
			tail := string(body[len(bytes.Join(events[:tc.keep], nil)):])
			if !strings.HasPrefix(tail, tc.wantTail) {
				t.Errorf("tail %q, want it to start with %q", tail, tc.wantTail)
			}
			if strings.Contains(tail, "[DONE]") {
				t.Errorf("a broken stream must not end with [DONE]: %q", tail)
			}
			if n := len(up.requests()); n != 1 {
				t.Errorf("upstream saw %d requests: a stream that started must not be retried", n)
			}
			c := p.rec.next(t)
			if c.Outcome != OutcomePartial || c.Attempts[0].Class != ClassMidStream {
				t.Errorf("record %s / %s, want partial / mid_stream", c.Outcome, c.Attempts[0].Class)
			}
		})
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	cfg.Retry.IdleTimeout.Duration = 200 * time.Millisecond
	p := newTestProxy(t, cfg, nil)
	events := splitEvents(readFixture(t, "openai/chat/stream_text.sse"))
	up.then(step{events: events, gate: func(i int) {
		if i == 2 {
			time.Sleep(700 * time.Millisecond)
		}
	}})
	_, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","stream":true,"messages":[]}`))
	if !bytes.Contains(body, []byte(`data: {"error":`)) || bytes.Contains(body, []byte("[DONE]")) {
		t.Errorf("body %q: want an error event and no [DONE]", body)
	}
	c := p.rec.next(t)
	if c.Outcome != OutcomePartial || c.Attempts[0].Class != ClassIdleTimeout {
		t.Errorf("record %s / %s, want partial / idle_timeout", c.Outcome, c.Attempts[0].Class)
	}
}

func TestSlowStreamHasNoTotalTimeout(t *testing.T) {
	up := newFakeUpstream(t)
	cfg := testConfig(up, "")
	// Four gaps per timeout: a loaded machine (CI, parallel tests) can stretch
	// a 150 ms sleep past a timeout only twice as long.
	cfg.Retry.IdleTimeout.Duration = 600 * time.Millisecond
	cfg.Retry.FirstByteTimeout.Duration = 600 * time.Millisecond
	p := newTestProxy(t, cfg, nil)
	events := splitEvents(readFixture(t, "openai/chat/stream_text.sse"))
	up.then(step{events: events, gap: 150 * time.Millisecond}) // total ≫ both timeouts
	_, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4.1","stream":true,"messages":[]}`))
	if !bytes.Equal(body, bytes.Join(events, nil)) {
		t.Errorf("slow stream was altered or cut:\n%s", body)
	}
}

func TestClientHangUpCancelsUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	events := splitEvents(readFixture(t, "openai/chat/stream_text.sse"))
	cancelled := make(chan struct{})
	up.then(step{events: events[:2], cancelled: cancelled})
	conn, br, _ := streamClient(t, p, "/v1/chat/completions", `{"model":"gpt-4.1","stream":true,"messages":[]}`)
	readChunk(t, br)
	conn.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream stream was not cancelled after the client hung up")
	}
	c := p.rec.next(t)
	if c.Outcome != OutcomeClientCancelled {
		t.Errorf("outcome %s, want client_cancelled", c.Outcome)
	}
}

func TestStreamFirstEventErrorIsRetried(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	errEvent := []byte("event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n")
	ev, err := sse.NewReader(bytes.NewReader(errEvent), 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := codec.StreamError(config.FormatAnthropic, ev); !ok {
		t.Fatalf("codec.StreamError does not see %q as an error event", errEvent)
	}
	up.then(step{events: [][]byte{errEvent}})
	resp, body := p.do(t, "POST", "/v1/messages", []byte(`{"model":"claude-sonnet-4-5","stream":true,"max_tokens":5,"messages":[]}`))
	if resp.StatusCode() != 200 || !bytes.Contains(body, []byte("message_stop")) {
		t.Fatalf("status %d, body %s", resp.StatusCode(), body)
	}
	if bytes.Contains(body, []byte("overloaded_error")) {
		t.Errorf("the error event of the failed attempt reached the client")
	}
	c := p.rec.next(t)
	if len(c.Attempts) != 2 || c.Attempts[0].Class != ClassOverloaded {
		t.Errorf("attempts %+v, want overloaded then ok", c.Attempts)
	}
}
