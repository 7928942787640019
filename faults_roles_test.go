package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// faultRoles are the process roles of the faults-at-load test (issue 15 §3):
// loadroles_test.go's runRole starts them by name.
var faultRoles = map[string]func() error{
	"faultupstream": func() error { return serveRole(faultUpstream(faultMixFromEnv())) },
	"faultload": func() error {
		res, err := runFaultLoad(faultLoadSpecFromEnv())
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(res)
	},
}

// faultMix is the share of upstream requests that get each fault; the rest
// get loadUpstream's healthy answer.
type faultMix struct {
	Reset float64 // the connection is reset (RST) once the request is read
	Bad   float64 // a 502 in OpenAI's error shape
	Hang  float64 // the request is read and never answered, until the peer closes
	Cut   float64 // a stream cut after two events; a JSON body cut halfway (faultCut)
}

func (m faultMix) env() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return []string{"ROLE_FAULT_RESET=" + f(m.Reset), "ROLE_FAULT_502=" + f(m.Bad),
		"ROLE_FAULT_HANG=" + f(m.Hang), "ROLE_FAULT_CUT=" + f(m.Cut)}
}

func faultMixFromEnv() faultMix {
	f := func(k string) float64 { v, _ := strconv.ParseFloat(os.Getenv(k), 64); return v }
	return faultMix{Reset: f("ROLE_FAULT_RESET"), Bad: f("ROLE_FAULT_502"), Hang: f("ROLE_FAULT_HANG"), Cut: f("ROLE_FAULT_CUT")}
}

// faultCounts is what the fault upstream did, served at GET /fault/stats.
type faultCounts struct {
	Requests, Healthy, Reset, Bad, Hang, CutStream, CutBody atomic.Int64
	// HangOpen counts hung requests whose connection the peer has not closed yet.
	HangOpen atomic.Int64
	// Conns is the number of connections accepted (the highest ConnID).
	Conns atomic.Uint64
}

func (c *faultCounts) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]int64{
		"requests": c.Requests.Load(), "healthy": c.Healthy.Load(), "reset": c.Reset.Load(),
		"502": c.Bad.Load(), "hang": c.Hang.Load(), "cut_stream": c.CutStream.Load(), "cut_body": c.CutBody.Load(), "hang_open": c.HangOpen.Load(),
		"conns": int64(c.Conns.Load()),
	})
}

// faultHangCap bounds a hang: far past any timeout the test configures, so
// that a proxy which does not time out shows in the latencies.
const faultHangCap = 30 * time.Second

// faultUpstream is loadUpstream with faults injected at random in the shares
// of mix. The faults work on the raw connection (hijacked, no response
// written by fasthttp), as a broken provider or network does.
func faultUpstream(mix faultMix) fasthttp.RequestHandler {
	healthy := loadUpstream()
	resp, err := os.ReadFile(filepath.Join("testdata", "history", "response_text.json"))
	if err != nil {
		panic(err)
	}
	var n faultCounts
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/fault/stats" {
			b, _ := json.Marshal(&n)
			ctx.SetBody(b)
			return
		}
		n.Requests.Add(1)
		for id := ctx.ConnID(); ; {
			if seen := n.Conns.Load(); seen >= id || n.Conns.CompareAndSwap(seen, id) {
				break
			}
		}
		stream := gjson.GetBytes(ctx.PostBody(), "stream").Bool()
		raw := ctx.Conn() // the TCP connection itself, for SetLinger
		hijack := func(h func(c net.Conn)) {
			ctx.HijackSetNoResponse(true)
			ctx.Hijack(h)
		}
		switch r := rand.Float64(); {
		case r < mix.Reset:
			n.Reset.Add(1)
			hijack(func(net.Conn) {
				if tc, ok := raw.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // close sends RST, not FIN
				}
			})
		case r < mix.Reset+mix.Bad:
			n.Bad.Add(1)
			ctx.SetStatusCode(fasthttp.StatusBadGateway)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"message":"upstream connect error or disconnect/reset before headers","type":"server_error","code":null}}`)
		case r < mix.Reset+mix.Bad+mix.Hang:
			n.Hang.Add(1)
			hijack(func(c net.Conn) {
				n.HangOpen.Add(1)
				defer n.HangOpen.Add(-1)
				// Never answer; wait for the peer to give up (bounded).
				_ = c.SetReadDeadline(time.Now().Add(faultHangCap))
				_, _ = io.Copy(io.Discard, c)
			})
		case r < mix.Reset+mix.Bad+mix.Hang+mix.Cut:
			if stream {
				n.CutStream.Add(1)
			} else {
				n.CutBody.Add(1)
			}
			hijack(func(c net.Conn) { faultCut(c, stream, resp) })
		default:
			n.Healthy.Add(1)
			healthy(ctx)
		}
	}
}

// faultCut writes the start of a good answer and closes the connection: two
// stream events in chunked encoding, or half of a JSON body, either in one
// chunk or short of the Content-Length it promised (at random).
func faultCut(c net.Conn, stream bool, body []byte) {
	w := bufio.NewWriter(c)
	if !stream {
		half := body[:len(body)/2]
		if rand.IntN(2) == 0 {
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(half), half)
		} else {
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), half)
		}
		_ = w.Flush()
		return
	}
	w.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	for range 2 {
		fmt.Fprintf(w, "%x\r\n%s\r\n", len(faultChunk), faultChunk)
		_ = w.Flush()
		time.Sleep(time.Millisecond)
	}
}

// faultChunk is one stream event of the fault upstream (loadUpstream's).
const faultChunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n"

// faultLoadSpec is a closed-loop mixed load: every other call of each client
// streams.
type faultLoadSpec struct {
	Target   string
	Conc     int
	Duration time.Duration
}

func (s faultLoadSpec) env() []string {
	return []string{roleEnv + "=faultload", "ROLE_TARGET=" + s.Target,
		"ROLE_CONC=" + strconv.Itoa(s.Conc), "ROLE_DURATION=" + s.Duration.String()}
}

func faultLoadSpecFromEnv() faultLoadSpec {
	conc, _ := strconv.Atoi(os.Getenv("ROLE_CONC"))
	d, _ := time.ParseDuration(os.Getenv("ROLE_DURATION"))
	return faultLoadSpec{Target: os.Getenv("ROLE_TARGET"), Conc: conc, Duration: d}
}

// faultCall is how one call ended, as its client saw it.
type faultCall struct {
	ID       string `json:"id"` // X-Gatehouse-Call
	Stream   bool   `json:"stream"`
	Status   int    `json:"status"`
	Attempts int    `json:"attempts"` // X-Gatehouse-Attempts
	Micros   int64  `json:"us"`       // until the last body byte
	// Kind: "ok" (a complete answer), "cut" (a stream that ended with an
	// error event in OpenAI's format) or "failed" (anything else).
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
}

// faultClientTimeout bounds each call on the client side: past faultHangCap,
// so that a hang the proxy does not end is seen as such.
const faultClientTimeout = faultHangCap + 10*time.Second

// runFaultLoad sends spec's calls and reports each one.
func runFaultLoad(spec faultLoadSpec) ([]faultCall, error) {
	var bodies [2][]byte
	for i, name := range []string{"request_text.json", "request_stream_text.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "history", name))
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	client := &fasthttp.Client{
		MaxConnsPerHost: spec.Conc, StreamResponseBody: true,
		ReadTimeout: faultClientTimeout, WriteTimeout: faultClientTimeout,
		// The client never retries: every failure the proxy lets through counts.
		RetryIfErr: func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
	}
	url := "http://" + spec.Target + "/v1/chat/completions"
	deadline := time.Now().Add(spec.Duration)
	var mu sync.Mutex
	var all []faultCall
	var wg sync.WaitGroup
	for range spec.Conc {
		wg.Go(func() {
			var mine []faultCall
			// Bounded in count as well as time.
			for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
				mine = append(mine, faultOne(client, url, bodies[i%2], i%2 == 1))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(all) == 0 {
		return nil, errors.New("no call was sent")
	}
	return all, nil
}

// faultOne sends one call and classifies its end.
func faultOne(client *fasthttp.Client, url string, body []byte, stream bool) faultCall {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	setLoadRequest(req, url, body)
	start := time.Now()
	fc := faultCall{Stream: stream, Kind: "failed"}
	err := client.Do(req, resp)
	if err != nil {
		fc.Micros, fc.Detail = time.Since(start).Microseconds(), "transport: "+err.Error()
		return fc
	}
	fc.Status = resp.StatusCode()
	fc.ID = string(resp.Header.Peek("X-Gatehouse-Call"))
	fc.Attempts, _ = strconv.Atoi(string(resp.Header.Peek("X-Gatehouse-Attempts")))
	got, err := io.ReadAll(resp.BodyStream())
	fc.Micros = time.Since(start).Microseconds()
	fc.Kind, fc.Detail = faultClassify(fc.Status, stream, got, err)
	return fc
}

// faultClassify tells a complete answer ("ok") from a stream that ended with
// an error event ("cut") and from any other failure ("failed").
func faultClassify(status int, stream bool, body []byte, readErr error) (kind, detail string) {
	excerpt := func() string {
		s := string(body)
		if len(s) > 300 {
			s = s[len(s)-300:]
		}
		return s
	}
	switch {
	case readErr != nil:
		return "failed", fmt.Sprintf("status %d, reading the body: %v (%s)", status, readErr, excerpt())
	case status != fasthttp.StatusOK:
		return "failed", fmt.Sprintf("status %d: %s", status, excerpt())
	case !stream:
		// gjson finds fields in a truncated document too: check it is whole.
		if !gjson.ValidBytes(body) || !gjson.GetBytes(body, "choices.0.message.content").Exists() {
			return "failed", "a 200 without a complete answer: " + excerpt()
		}
		return "ok", ""
	}
	events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	last := events[len(events)-1]
	data, isData := strings.CutPrefix(last, "data: ")
	switch {
	case last == "data: [DONE]" && !strings.Contains(string(body), `data: {"error"`):
		return "ok", ""
	case isData && gjson.Get(data, "error.message").String() != "":
		return "cut", gjson.Get(data, "error.message").String()
	}
	return "failed", "a stream that ended neither with [DONE] nor with an error event: " + excerpt()
}
