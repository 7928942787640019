package store

import (
	"log/slog"
	"os"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchCall is a realistic small chat call as the proxy hands it over: a
// header block, a chat request and response; with wire set, one attempt's wire
// record (issue 16) as a same-format pass-through (bodies shared with the
// client's) or a translated call (bodies of the upstream's format).
type benchCall struct {
	reqHeaders, respHeaders, req, resp []byte
	upReqHeaders, upRespHeaders        []byte
	upReq, upResp                      []byte // translated: the upstream's bodies
}

func newBenchCall() *benchCall {
	return &benchCall{
		reqHeaders:    []byte("Host: 127.0.0.1:8765\nContent-Type: application/json\nUser-Agent: OpenAI/Python 1.99.0\nAuthorization: Bearer gatehouse\nAccept: application/json\nX-Stainless-Lang: python\nContent-Length: 323\n"),
		respHeaders:   []byte("Content-Type: application/json\nX-Gatehouse-Call: 01KB0000000000000000000000\nX-Gatehouse-Attempts: 1\n"),
		req:           []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a concise assistant. Answer in one sentence."},{"role":"user","content":"What is the capital of Australia?"}],"max_completion_tokens":128,"temperature":0.2,"stop":["\n\n"]}`),
		resp:          []byte(`{"id":"chatcmpl-CZt4mQ0pJw7bYx3hV1nLk8sRfTgAe","object":"chat.completion","created":1767268800,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of Australia is Canberra.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":27,"completion_tokens":8,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_e6c46296c9"}`),
		upReqHeaders:  []byte("Content-Type: application/json\nUser-Agent: OpenAI/Python 1.99.0\nAccept: application/json\nX-Stainless-Lang: python\nAuthorization: [REDACTED]\n"),
		upRespHeaders: []byte("Content-Type: application/json\nDate: Mon, 30 Nov 2026 07:00:00 GMT\nX-Request-Id: req_0a1b2c3d4e5f60718293a4b5c6d7e8f9\nOpenai-Processing-Ms: 412\nX-Ratelimit-Remaining-Requests: 9999\nX-Ratelimit-Remaining-Tokens: 29999000\nX-Ratelimit-Reset-Requests: 6ms\n"),
		upReq:         []byte(`{"model":"claude-sonnet-4-5","max_tokens":128,"system":"You are a concise assistant. Answer in one sentence.","messages":[{"role":"user","content":[{"type":"text","text":"What is the capital of Australia?"}]}],"temperature":0.2,"stop_sequences":["\n\n"]}`),
		upResp:        []byte(`{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"The capital of Australia is Canberra."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":27,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":11,"service_tier":"standard"}}`),
	}
}

// pending builds call i in one of the modes: "client-only" is what was
// recorded before issue 16 (no wire record), "same-format" and "translated"
// add one attempt's wire record.
func (bc *benchCall) pending(i int, base time.Time, mode string) pending {
	c := callAt(base.Add(time.Duration(i)*time.Microsecond), OutcomeOK, "openai")
	b := &Bodies{
		Request:  RawMessage{HeaderBlock: bc.reqHeaders, Body: bc.req},
		Response: RawMessage{HeaderBlock: bc.respHeaders, Body: bc.resp},
	}
	if mode != "client-only" {
		a := &c.Attempts[0]
		a.Method, a.KeySource, a.KeyMask, a.ConnectMS, a.FirstByteMS = "POST", "keychain", "sk-…abcd", 1, 412
		a.URL = "https://api.openai.com/v1/chat/completions"
		up := AttemptBodies{
			Request:  RawMessage{HeaderBlock: bc.upReqHeaders, Body: bc.req},
			Response: RawMessage{HeaderBlock: bc.upRespHeaders, Body: bc.resp},
		}
		if mode == "translated" {
			a.URL = "https://api.anthropic.com/v1/messages"
			up.Request.Body, up.Response.Body = bc.upReq, bc.upResp
		}
		b.Attempts = []AttemptBodies{up}
	}
	return pending{call: c, bodies: b, size: b.size()}
}

// BenchmarkWriterWire is the writer's cost per call and the history's size per
// 1,000 calls, before issue 16 (client-only) and with each attempt's wire
// record, for a same-format pass-through (bodies stored once) and a translated
// call (the upstream's bodies stored too), in one run. Reported: cpu_µs/call,
// stored_KB/1000calls (keys and values written) and file_KB/1000calls.
func BenchmarkWriterWire(b *testing.B) {
	for _, mode := range []string{"client-only", "same-format", "translated"} {
		b.Run(mode, func(b *testing.B) {
			h := openTest(b, Options{MaxAge: -1, NoRetention: true, Logger: slog.New(slog.DiscardHandler), Secrets: func() []string {
				return []string{"sk-bench-0123456789abcdef", "sk-ant-bench-0123456789", "AIzaBench0123456789"}
			}})
			h.db.NoSync = true // the fsync per commit is not a per-call cost
			w := &writer{h: h}
			bc := newBenchCall()
			base := time.Now()
			batch := make([]pending, 0, 1000)
			b.ReportAllocs()
			cpu := cpuTime()
			n := 0
			for i := 0; b.Loop(); i++ {
				batch = append(batch, bc.pending(i, base, mode))
				if len(batch) == cap(batch) {
					batch = w.commit(batch)
				}
				n++
			}
			w.commit(batch)
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(n)/1e3, "cpu_µs/call")
			stored := storedBytes(b, h)
			b.ReportMetric(float64(stored)/float64(n), "stored_KB/1000calls")
			if fi, err := os.Stat(h.Path()); err == nil && n >= 10000 {
				b.ReportMetric(float64(fi.Size())/float64(n), "file_KB/1000calls")
			}
		})
	}
}

// storedBytes sums the keys and values of the calls and bodies buckets.
func storedBytes(b *testing.B, h *History) int64 {
	var n int64
	if err := h.view(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketCalls, bucketBodies} {
			if err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				n += int64(len(k) + len(v))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkEncodeCallWire is the writer's encoding of one small same-format
// call with its wire record (four header blocks, two bodies), without bbolt:
// redaction, header blocks and the summary.
func BenchmarkEncodeCallWire(b *testing.B) {
	red := newRedactor([]string{"sk-bench-0123456789abcdef", "sk-ant-bench-0123456789", "AIzaBench0123456789"})
	bc := newBenchCall()
	base := time.Now()
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := bc.pending(i, base, "same-format")
		var err error
		if _, buf, err = encodeCall(&p, red, 1<<20, buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
