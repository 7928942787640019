package proxy

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// streamFormat is one wire format as a client or an upstream of a stream.
type streamFormat struct {
	name string
	// client side: the request path and body for model m, what marks a clean
	// end, and what marks the error event, in this format.
	path      func(m string) string
	body      func(m string) string
	endMarker string
	errMarker string
	// upstream side: the model routed to a provider of this format and its
	// stream fixture.
	model, fixture string
}

// streamFormats lists the formats for TestTruncatedStreamIsAnError. A new
// format (e.g. Responses translated) is one more row; passOnly limits a row to
// the same-format pair.
var streamFormats = []struct {
	streamFormat
	passOnly bool
}{
	{streamFormat{name: "openai",
		path: func(string) string { return "/v1/chat/completions" },
		body: func(m string) string {
			return `{"model":"` + m + `","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		},
		endMarker: "data: [DONE]", errMarker: `"error"`,
		model: "gpt-4.1", fixture: "openai/chat/stream_text.sse"}, false},
	{streamFormat{name: "anthropic",
		path: func(string) string { return "/v1/messages" },
		body: func(m string) string {
			return `{"model":"` + m + `","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
		},
		endMarker: "event: message_stop", errMarker: "event: error",
		model: "claude-sonnet-4-5", fixture: "anthropic/messages/stream_text.sse"}, false},
	{streamFormat{name: "gemini",
		path:      func(m string) string { return "/v1beta/models/" + m + ":streamGenerateContent?alt=sse" },
		body:      func(string) string { return `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}` },
		endMarker: `"finishReason"`, errMarker: `"error"`,
		model: "gemini-2.5-flash", fixture: "gemini/stream_text.sse"}, false},
	{streamFormat{name: "responses",
		path:      func(string) string { return "/v1/responses" },
		body:      func(m string) string { return `{"model":"` + m + `","stream":true,"input":"hi"}` },
		endMarker: "response.completed", errMarker: "error",
		model: "gpt-4.1", fixture: "openai/responses/stream_text.sse"}, true},
}

// cutUpstream is a raw HTTP/1.1 upstream on 127.0.0.1: it answers every request
// with the first events of a stream fixture, then ends the connection cleanly
// (EOF) or with a reset (RST). Raw, because an HTTP server library finishes
// its responses properly.
func cutUpstream(t *testing.T, events [][]byte, reset bool) string {
	t.Helper()
	ln := loopbackListener(t)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(conn)
				n := 0
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
						n = atoi(strings.TrimSpace(v))
					}
					if line == "\r\n" {
						break
					}
				}
				if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
					return
				}
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"))
				for _, ev := range events {
					_, _ = conn.Write(ev)
				}
				time.Sleep(50 * time.Millisecond)
				if tc, ok := conn.(*net.TCPConn); ok && reset {
					_ = tc.SetLinger(0)
				}
			}(conn)
		}
	}()
	return ln.Addr().String()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Issue 19.3: a stream that stops before its format's end event, on a clean
// EOF or a reset, reaches the client as its own error event with no end
// marker, and is recorded partial / mid_stream; for every client × upstream
// format pair, same format included.
func TestTruncatedStreamIsAnError(t *testing.T) {
	for _, client := range streamFormats {
		for _, upstream := range streamFormats {
			if (client.passOnly || upstream.passOnly) && client.name != upstream.name {
				continue
			}
			for _, reset := range []bool{false, true} {
				end := "eof"
				if reset {
					end = "rst"
				}
				t.Run(client.name+"<-"+upstream.name+"/"+end, func(t *testing.T) {
					events := splitEvents(readFixture(t, upstream.fixture))
					addr := cutUpstream(t, events[:max(1, len(events)/2)], reset)
					p := newTestProxy(t, testConfig(&fakeUpstream{addr: addr}, ""), nil)
					resp, body := p.do(t, "POST", client.path(upstream.model), []byte(client.body(upstream.model)))
					if resp.StatusCode() != 200 {
						t.Fatalf("status %d: %s", resp.StatusCode(), body)
					}
					got := string(body)
					if strings.Contains(got, client.endMarker) {
						t.Errorf("the client saw a clean end (%s):\n%s", client.endMarker, got)
					}
					if !strings.Contains(got, client.errMarker) {
						t.Errorf("no %s error event:\n%s", client.name, got)
					}
					c := p.rec.next(t)
					if c.Outcome != OutcomePartial || len(c.Attempts) == 0 || c.Attempts[len(c.Attempts)-1].Class != ClassMidStream {
						t.Errorf("recorded %s, attempts %+v: want partial, mid_stream", c.Outcome, c.Attempts)
					}
				})
			}
		}
	}
}
