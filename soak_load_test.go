package main

import (
	"bufio"
	"bytes"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestSoakLoadCountsBrokenStreams: the load generator counts a stream that
// ends without [DONE] as a client error, whether the upstream stops mid-way
// or ends with an error event; only a whole stream is a call.
func TestSoakLoadCountsBrokenStreams(t *testing.T) {
	const event = `data: {"choices":[{"index":0,"delta":{"content":"word "}}]}` + "\n\n"
	for _, c := range []struct {
		name, body string
		errors     int
	}{
		{"whole", strings.Repeat(event, 5) + soakDone, 0},
		{"cut", strings.Repeat(event, 5), 3},
		{"error event", event + `data: {"error":{"message":"upstream went away","type":"server_error"}}` + "\n\n", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
				ctx.SetContentType("text/event-stream")
				ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
					_, _ = w.WriteString(c.body)
				})
			}}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)     //nolint:errcheck // ends with Shutdown
			defer srv.Shutdown() //nolint:errcheck
			res, err := runLoad(loadSpec{Target: ln.Addr().String(), Conc: 1, Calls: 3, Stream: true, Body: "request_stream_text.json"})
			if c.errors == 3 {
				err = nil // "no call succeeded" is the point here
			}
			if err != nil || res.Errors != c.errors {
				t.Errorf("runLoad against a %s stream: %d errors (%v), want %d", c.name, res.Errors, err, c.errors)
			}
		})
	}
}

// TestSoakTail: soakTail keeps the last 32 bytes whatever the writes' sizes.
func TestSoakTail(t *testing.T) {
	text := []byte(strings.Repeat("0123456789abcdefghij", 7))
	for _, size := range []int{1, 3, 31, 32, 33, 100, len(text)} {
		var tail soakTail
		for b := text; len(b) > 0; {
			n := min(size, len(b))
			_, _ = tail.Write(b[:n])
			b = b[n:]
		}
		if want := text[len(text)-32:]; !bytes.Equal(tail.bytes(), want) {
			t.Errorf("writes of %d: tail %q, want %q", size, tail.bytes(), want)
		}
	}
}

// TestSoakSlope: the fit finds a known slope, and its standard error grows
// with the noise around it.
func TestSoakSlope(t *testing.T) {
	line := func(noise float64) []soakSample {
		var s []soakSample
		for i := range 40 {
			v := 5 + 2*float64(i) + noise*float64(i%2*2-1) // ±noise, alternating
			s = append(s, soakSample{at: time.Duration(i) * time.Second, m: map[string]float64{"x": v}})
		}
		return s
	}
	slope, se, mean := soakSlope(line(0), "x")
	if math.Abs(slope-2) > 1e-9 || se > 1e-9 || math.Abs(mean-44) > 1e-9 {
		t.Errorf("a clean line 5+2t: slope %v ± %v, mean %v; want 2 ± 0, mean 44", slope, se, mean)
	}
	slope, se, _ = soakSlope(line(10), "x")
	if math.Abs(slope-2) > 0.2 || se < 0.1 || se > 1 {
		t.Errorf("5+2t ± 10: slope %v ± %v, want 2 ± 0.1–1", slope, se)
	}
}
