package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fuzzDeadline bounds one fuzz input: the server must have answered and closed
// (the client half-closed its side) well within it.
const fuzzDeadline = 10 * time.Second

// FuzzServeRaw sends raw request bytes (any method, path, header, chunked or
// broken body, invalid UTF-8, huge headers, pipelined requests) to the real
// server on a loopback listener, with the fake upstream answering the calls
// that get through (issue 15 §5). Invariants: no panic (the server runs in this
// process), no hang (the connection ends within fuzzDeadline once the client
// has sent everything), and every response parses with net/http's
// ReadResponse.
func FuzzServeRaw(f *testing.F) {
	for _, s := range rawSeeds() {
		f.Add(s)
	}
	up := newFakeUpstream(quietHelper{f})
	p := newTestProxy(f, testConfig(up, ""), nil)
	addr := strings.TrimPrefix(p.url, "http://")
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, err := checkRawExchange(addr, raw, 0); err != nil {
			t.Fatalf("request %q: %v", truncate(raw, 2000), err)
		}
	})
}

// quietHelper lets the fake upstream, which calls Helper from its handler,
// run under a testing.F: F.Helper panics once the fuzz target runs.
type quietHelper struct{ testing.TB }

func (quietHelper) Helper() {}

// checkRawExchange writes raw to the server at addr, half-closes, and checks
// that what comes back is a sequence of well-formed HTTP responses; it returns
// their statuses. The client half-closes its side once it has written raw, so
// that the server ends the exchange; with expect > 0 it waits for that many
// answers first (at most 2 s): the proxy takes the end of a client's input
// during a call for a hang-up (a 499), which on a busy machine a call of
// more than hangupWatchDelay would get.
func checkRawExchange(addr string, raw []byte, expect int) ([]int, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetDeadline(start.Add(fuzzDeadline))
	// Write in the background: a server that answers an oversized header early
	// and stops reading must not block the test on a full socket buffer.
	wrote := make(chan error, 1)
	answered := make(chan struct{})
	go func() {
		_, err := c.Write(raw)
		if err == nil && expect > 0 {
			select {
			case <-answered:
			case <-time.After(2 * time.Second):
			}
		}
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		wrote <- err
	}()
	// A HEAD answer carries a Content-Length but no body: read it as such.
	method := "GET"
	if i := bytes.IndexAny(raw, " \r\n"); i > 0 && strings.EqualFold(string(raw[:i]), "HEAD") {
		method = "HEAD"
	}
	br := bufio.NewReader(c)
	var statuses []int
	for n := 0; ; n++ {
		if _, err := br.Peek(1); err != nil {
			if isTimeout(err) {
				return statuses, errors.New("the server neither answered nor closed the connection within " + fuzzDeadline.String())
			}
			break // closed: done
		}
		resp, err := nethttp.ReadResponse(br, &nethttp.Request{Method: method})
		if err != nil {
			return statuses, fmt.Errorf("response %d is malformed: %w", n, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return statuses, fmt.Errorf("response %d has a malformed body: %w", n, err)
		}
		if resp.StatusCode < 100 || resp.StatusCode > 599 {
			return statuses, fmt.Errorf("response %d has status %q", n, resp.Status)
		}
		statuses = append(statuses, resp.StatusCode)
		if len(statuses) == expect {
			close(answered)
		}
		if method == "HEAD" {
			break // pipelined methods after a HEAD are not tracked
		}
	}
	if err := <-wrote; err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		return statuses, fmt.Errorf("write: %w", err)
	}
	return statuses, nil
}

// isReset is a write the server cut short by closing after its answer (an
// oversized header is answered before it is all read): a reset, a broken pipe,
// or a half-close of a connection already gone.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENOTCONN)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// rawSeeds are the request shapes the fuzzer starts from: valid calls of each
// format, framing edge cases and hostile inputs.
func rawSeeds() [][]byte {
	chat := `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`
	return [][]byte{
		[]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(chat)) + "\r\n\r\n" + chat),
		[]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"mod\r\n0\r\n\r\n"),
		[]byte("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n"),
		[]byte("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 58\r\nanthropic-version: 2023-06-01\r\n\r\n{\"model\":\"claude-x\",\"max_tokens\":5,\"stream\":true,\"messages\":[]}"),
		[]byte("POST /v1beta/models/gemini-2.5-pro:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"),
		[]byte("GET /_gatehouse/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
		[]byte("HEAD /_gatehouse/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
		[]byte("GET /_gatehouse/api/history HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Gatehouse-Token: x\r\n\r\n"),
		[]byte("OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n\r\n"),
		[]byte("BREW /\xff\xfe/\x00 HTTP/1.1\r\nHost: \xc3\x28\r\nX-\xff: \xfe\r\n\r\n"),
		[]byte("GET / HTTP/1.0\r\n\r\n"),
		[]byte("GET /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n"),
		[]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
		[]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello"),
		[]byte("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"),
		[]byte("GET http://127.0.0.1/v1/models HTTP/1.1\r\n\r\n"),
		[]byte("\r\n\r\n"),
	}
}

// TestServeRawSeeds checks that the fuzz seeds reach what they aim at: a valid
// call is answered by the upstream, broken framing and oversized headers get
// an error status, pipelined requests get one answer each.
func TestServeRawSeeds(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxy(t, testConfig(up, ""), nil)
	addr := strings.TrimPrefix(p.url, "http://")
	seeds := rawSeeds()
	for _, tc := range []struct {
		seed int
		want []int
	}{
		{0, []int{200}},
		{2, []int{400}},
		{5, []int{200, 200}},
		{11, []int{400}},
	} {
		got, err := checkRawExchange(addr, seeds[tc.seed], len(tc.want))
		if err != nil {
			t.Fatalf("seed %d: %v", tc.seed, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("seed %d (%q): statuses %v, want %v", tc.seed, truncate(seeds[tc.seed], 80), got, tc.want)
		}
	}
}

// TestStalledRequestIsCutOff: a client that sends part of a request and then
// nothing is disconnected after RequestReadTimeout; before issue 15 §5 it held
// its connection (and a server worker) for ever.
func TestStalledRequestIsCutOff(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxyOpts(t, testConfig(up, ""), Options{Logger: discardLogger(), RequestReadTimeout: 300 * time.Millisecond})
	for _, partial := range []string{
		"", // connected, sent nothing
		"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n",                             // headers not finished
		"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{", // body short
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, _ = c.Write([]byte(partial))
		_ = c.SetReadDeadline(start.Add(5 * time.Second))
		_, err = io.ReadAll(c)
		c.Close()
		if isTimeout(err) {
			t.Fatalf("after %q the server still held the connection 5 s later", partial)
		}
		if took := time.Since(start); took < 250*time.Millisecond {
			t.Errorf("after %q the server closed after %v, before the 300 ms timeout", partial, took)
		}
	}
}

// TestLongCallOutlastsReadTimeout: the read deadline ends with the request, so a
// call slower than RequestReadTimeout is answered, and its client's hang-up is
// still noticed.
func TestLongCallOutlastsReadTimeout(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxyOpts(t, testConfig(up, ""), Options{Keys: keys{"oai/": "sk-oai-secret"}, Logger: discardLogger(), RequestReadTimeout: 200 * time.Millisecond})
	up.then(step{hang: 600 * time.Millisecond, body: []byte(`{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"late"},"finish_reason":"stop"}]}`)})
	resp, body := p.do(t, "POST", "/v1/chat/completions", []byte(`{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`))
	if resp.StatusCode() != 200 || !strings.Contains(string(body), "late") {
		t.Fatalf("a 600 ms call with a 200 ms read timeout: %d %s", resp.StatusCode(), body)
	}
}
