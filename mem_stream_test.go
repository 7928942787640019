package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// memStreamTotal is the size of the fast stream: 50 MB of SSE.
const memStreamTotal = 50 << 20

// memStream yields the fast stream's bytes in pieces: OpenAI chunks of 1,000
// characters of text, each numbered (a lost, doubled or reordered piece changes
// the hash), until memStreamTotal, then the finish chunk, usage and [DONE].
func memStream(yield func([]byte) bool) {
	pad := strings.Repeat("x", 990)
	n := 0
	for i := 0; n < memStreamTotal; i++ {
		ev := fmt.Appendf(nil, `data: {"id":"chatcmpl-mem","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"%09d %s"},"finish_reason":null}]}`+"\n\n", i, pad)
		n += len(ev)
		if !yield(ev) {
			return
		}
	}
	yield([]byte(`data: {"id":"chatcmpl-mem","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
		`data: {"id":"chatcmpl-mem","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12000000,"total_tokens":12000009}}` + "\n\n" +
		"data: [DONE]\n\n"))
}

// memStreamUpstream writes memStream as fast as the connection takes it,
// flushing every 64 KiB; sent counts the bytes flushed, done is set once all
// of it was.
func memStreamUpstream(sent *atomic.Int64, done *atomic.Bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			pending := 0
			flush := func() bool {
				if w.Flush() != nil {
					return false
				}
				sent.Add(int64(pending))
				pending = 0
				return true
			}
			ok := true
			for ev := range memStream {
				_, _ = w.Write(ev)
				if pending += len(ev); pending >= 64<<10 && !flush() {
					ok = false
					break
				}
			}
			if ok && flush() {
				done.Store(true)
			}
		})
	}
}

// TestMemorySlowReaderOfAFastStream is issue 15 §2 (a): the upstream sends a
// 50 MB stream as fast as it can, the client reads it at 10 KB/s. The proxy
// relays each event as it comes and blocks on a full client socket, so TCP
// backpressure must reach the upstream instead of the proxy buffering the
// stream: during 20 s of slow reading serve's RSS stays under 100 MB (it idles
// at about 30 MB; buffering the stream would add 50 MB) and the upstream's
// writes stall well short of 50 MB.
//
// Reading all of it at 10 KB/s would take 83 minutes. The test then reads the
// rest at full speed rather than hanging up: that also proves that a stream
// held back for a while loses, doubles or reorders nothing (the client's bytes
// hash the same as the upstream's), and that recording a 50 MB stream keeps
// the history's caps (events and reassembled body at body_cap_bytes) without
// holding the stream in memory. A hang-up mid-stream is the fault tests' ground
// (issue 15 §3).
func TestMemorySlowReaderOfAFastStream(t *testing.T) {
	memSkip(t)
	const (
		slowFor   = 20 * time.Second
		slowRate  = 10 << 10 // bytes a second
		rssLimit  = 100 << 20
		stallSlop = 4 << 20 // what the upstream may still write in the last 10 s
	)
	var sent atomic.Int64
	var upDone atomic.Bool
	up := memUpstream(t, memStreamUpstream(&sent, &upDone), false)
	p := memServe(t, up)
	idle := rssBytes(p.cmd.Process.Pid)
	rss := memSample(p.cmd.Process.Pid)
	defer rss.Stop()

	body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a long answer, please"}]}`
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://"+p.addr+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	id := resp.Header.Get("X-Gatehouse-Call")
	h := sha256.New()
	var got int64

	// Slow phase: 1 KB every 100 ms.
	buf := make([]byte, slowRate/10)
	start := time.Now()
	var sentMid int64
	for time.Since(start) < slowFor {
		n, err := io.ReadFull(resp.Body, buf)
		h.Write(buf[:n])
		got += int64(n)
		if err != nil {
			t.Fatalf("reading slowly after %d bytes: %v", got, err)
		}
		if sentMid == 0 && time.Since(start) >= slowFor/2 {
			sentMid = sent.Load()
		}
		time.Sleep(100 * time.Millisecond)
	}
	sentSlow := sent.Load()
	peakSlow := rss.Peak()
	t.Logf("slow phase: client read %d KB in %v; upstream had written %.1f MB at %v and %.1f MB at %v; serve RSS idle %.1f MB, peak %.1f MB (bound %d MB)",
		got>>10, slowFor, memMB(sentMid), slowFor/2, memMB(sentSlow), slowFor, memMB(idle), memMB(peakSlow), rssLimit>>20)
	if sentSlow >= memStreamTotal || upDone.Load() {
		t.Errorf("the upstream wrote the whole stream (%d bytes) to a client reading 10 KB/s: no backpressure reached it", sentSlow)
	}
	if sentSlow-sentMid > stallSlop {
		t.Errorf("the upstream wrote %.1f MB in the last %v of slow reading, want ≤ %d MB: its writes do not stall", memMB(sentSlow-sentMid), slowFor/2, stallSlop>>20)
	}
	if peakSlow > rssLimit {
		t.Errorf("serve's RSS reached %.1f MB while the client read slowly, want ≤ %d MB", memMB(peakSlow), rssLimit>>20)
	}

	// Fast phase: the rest at full speed, bounded in time.
	fast := time.AfterFunc(60*time.Second, func() { resp.Body.Close() })
	defer fast.Stop()
	fastStart := time.Now()
	n, err := io.Copy(h, resp.Body)
	got += n
	if err != nil {
		t.Fatalf("reading the rest after %d bytes in %v: %v", got, time.Since(fastStart), err)
	}
	want := sha256.New()
	var wantLen int64
	for ev := range memStream {
		want.Write(ev)
		wantLen += int64(len(ev))
	}
	peak := rss.Stop()
	t.Logf("fast phase: the rest (%.1f MB) in %v; serve RSS peak over the whole call %.1f MB (bound %d MB)",
		memMB(n), time.Since(fastStart).Round(time.Millisecond), memMB(peak), rssLimit>>20)
	if got != wantLen || string(h.Sum(nil)) != string(want.Sum(nil)) {
		t.Errorf("the client got %d bytes (sha256 %x), the upstream sent %d (sha256 %x)", got, h.Sum(nil), wantLen, want.Sum(nil))
	}
	if peak > rssLimit {
		t.Errorf("serve's RSS reached %.1f MB relaying the stream, want ≤ %d MB", memMB(peak), rssLimit>>20)
	}

	call := memHistoryCall(t, p, id)
	const bodyCap = 1 << 20 // history.body_cap_bytes' default
	if call.Outcome != "ok" || len(call.Events) > bodyCap || !call.EventsTruncated {
		t.Errorf("history: outcome %q, events %d bytes (truncated %v), want ok, ≤ %d bytes, truncated", call.Outcome, len(call.Events), call.EventsTruncated, bodyCap)
	}
	if call.Response == nil || len(call.Response.Body) > bodyCap || !call.Response.Truncated {
		t.Errorf("history: the reassembled response is not capped at %d bytes: %+v", bodyCap, call.Response)
	}
}
