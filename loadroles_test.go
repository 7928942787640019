package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// The out-of-process benchmark and the soak test run the fake upstream, the bare
// forwarder and the load generator as processes of their own, so that they
// compete with `gatehouse serve` for the CPU as they do on a user's laptop. Each
// is this test binary run again with roleEnv set; its settings come in
// role-prefixed environment variables, its address or result goes to stdout,
// and a server role exits when its stdin closes (the parent died).
const roleEnv = "GATEHOUSE_TEST_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		if err := runRole(role); err != nil {
			fmt.Fprintln(os.Stderr, role+":", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runRole(role string) error {
	if run, ok := faultRoles[role]; ok {
		return run()
	}
	switch role {
	case "upstream":
		return serveRole(loadUpstream())
	case "forwarder":
		return serveRole(bareForwarder(os.Getenv("ROLE_UPSTREAM")))
	case "load":
		res, err := runLoad(loadSpecFromEnv())
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	return fmt.Errorf("unknown role %q", role)
}

// serveRole serves h on 127.0.0.1:0, prints "ADDR host:port" and serves until
// stdin closes.
func serveRole(h fasthttp.RequestHandler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{Handler: h, Concurrency: 1 << 16}
	go srv.Serve(ln) //nolint:errcheck
	fmt.Printf("ADDR %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// loadUpstream answers OpenAI chat completions with the recorded response
// fixture, or a stream of ROLE_EVENTS chunks (default 5) ROLE_CADENCE apart
// (default 1ms) ending with a finish chunk, usage and [DONE].
func loadUpstream() fasthttp.RequestHandler {
	resp, err := os.ReadFile(filepath.Join("testdata", "history", "response_text.json"))
	if err != nil {
		panic(err)
	}
	events, _ := strconv.Atoi(os.Getenv("ROLE_EVENTS"))
	if events <= 0 {
		events = 5
	}
	cadence, err := time.ParseDuration(os.Getenv("ROLE_CADENCE"))
	if err != nil {
		cadence = time.Millisecond
	}
	const chunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n"
	const end = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
		`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767268800,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":27,"completion_tokens":8,"total_tokens":35}}` + "\n\n" +
		"data: [DONE]\n\n"
	return func(ctx *fasthttp.RequestCtx) {
		if !gjson.GetBytes(ctx.PostBody(), "stream").Bool() {
			ctx.SetContentType("application/json")
			ctx.SetBody(resp)
			return
		}
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := range events {
				if i > 0 {
					time.Sleep(cadence)
				}
				_, _ = w.WriteString(chunk)
				if w.Flush() != nil {
					return
				}
			}
			_, _ = w.WriteString(end)
			_ = w.Flush()
		})
	}
}

// bareForwarder is the floor any proxy hop costs: it copies the request to the
// upstream and the answer back, with no routing, parsing or recording.
func bareForwarder(upstream string) fasthttp.RequestHandler {
	client := &fasthttp.Client{StreamResponseBody: true, MaxConnsPerHost: 4096}
	return func(ctx *fasthttp.RequestCtx) {
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		ctx.Request.CopyTo(req)
		req.SetHost(upstream)
		resp := fasthttp.AcquireResponse()
		if err := client.Do(req, resp); err != nil {
			fasthttp.ReleaseResponse(resp)
			ctx.Error(err.Error(), fasthttp.StatusBadGateway)
			return
		}
		ctx.SetStatusCode(resp.StatusCode())
		ctx.Response.Header.SetContentTypeBytes(resp.Header.ContentType())
		if !bytes.HasPrefix(resp.Header.ContentType(), []byte("text/event-stream")) {
			body, _ := io.ReadAll(resp.BodyStream())
			ctx.SetBody(body)
			fasthttp.ReleaseResponse(resp)
			return
		}
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer fasthttp.ReleaseResponse(resp)
			buf := make([]byte, 32<<10)
			for {
				n, err := resp.BodyStream().Read(buf)
				if n > 0 {
					_, _ = w.Write(buf[:n])
					if w.Flush() != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}
}

// loadSpec is one closed-loop run of the load generator.
type loadSpec struct {
	Target   string        // host:port
	Auth     string        // Authorization header, if any
	Conc     int           // concurrent clients
	Calls    int           // measured calls (after Warmup); 0: run for Duration
	Warmup   int           // calls sent first and not measured
	Duration time.Duration // with Calls 0
	Stream   bool          // streaming calls; latency is the first body byte
	Body     string        // request body file in testdata/history
}

func (s loadSpec) env() []string {
	return []string{
		roleEnv + "=load", "ROLE_TARGET=" + s.Target, "ROLE_AUTH=" + s.Auth,
		"ROLE_CONC=" + strconv.Itoa(s.Conc), "ROLE_CALLS=" + strconv.Itoa(s.Calls),
		"ROLE_WARMUP=" + strconv.Itoa(s.Warmup), "ROLE_DURATION=" + s.Duration.String(),
		"ROLE_STREAM=" + strconv.FormatBool(s.Stream), "ROLE_BODY=" + s.Body,
	}
}

func loadSpecFromEnv() loadSpec {
	atoi := func(k string) int { n, _ := strconv.Atoi(os.Getenv(k)); return n }
	d, _ := time.ParseDuration(os.Getenv("ROLE_DURATION"))
	return loadSpec{
		Target: os.Getenv("ROLE_TARGET"), Auth: os.Getenv("ROLE_AUTH"),
		Conc: atoi("ROLE_CONC"), Calls: atoi("ROLE_CALLS"), Warmup: atoi("ROLE_WARMUP"),
		Duration: d, Stream: os.Getenv("ROLE_STREAM") == "true", Body: os.Getenv("ROLE_BODY"),
	}
}

// loadResult is what one run measured.
type loadResult struct {
	Calls  int     `json:"calls"`
	Errors int     `json:"errors"`
	RPS    float64 `json:"rps"`
	P50us  float64 `json:"p50_us"`
	P99us  float64 `json:"p99_us"`
	// FirstError is the first failed call's error, if any.
	FirstError string `json:"first_error,omitempty"`
	// CPU is the load generator's own CPU time (set by runLoadProcess).
	CPU time.Duration `json:"-"`
}

// runLoad sends spec's calls from spec.Conc clients in a closed loop.
func runLoad(spec loadSpec) (loadResult, error) {
	body, err := os.ReadFile(filepath.Join("testdata", "history", spec.Body))
	if err != nil {
		return loadResult{}, err
	}
	client := &fasthttp.Client{
		MaxConnsPerHost: spec.Conc, StreamResponseBody: spec.Stream,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
	}
	url := "http://" + spec.Target + "/v1/chat/completions"
	one := func() (time.Duration, error) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		setLoadRequest(req, url, body)
		if spec.Auth != "" {
			req.Header.Set("Authorization", spec.Auth)
		}
		start := time.Now()
		if err := client.Do(req, resp); err != nil {
			return 0, err
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
		}
		if !spec.Stream {
			return time.Since(start), nil
		}
		var first [1]byte
		if _, err := io.ReadFull(resp.BodyStream(), first[:]); err != nil {
			return 0, err
		}
		took := time.Since(start)
		var tail soakTail
		if _, err := io.Copy(&tail, resp.BodyStream()); err != nil {
			return 0, err
		}
		// A stream cut mid-way, or ended by an error event, is a failed call
		// even when the connection closed cleanly.
		if !bytes.HasSuffix(tail.bytes(), []byte(soakDone)) {
			return 0, fmt.Errorf("stream did not end with [DONE]: ...%q", tail.bytes())
		}
		return took, nil
	}
	for range spec.Warmup {
		_, _ = one()
	}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var firstErr error
	deadline := time.Now().Add(spec.Duration)
	more := func() bool {
		if spec.Calls > 0 {
			return next.Add(1) <= int64(spec.Calls)
		}
		return time.Now().Before(deadline)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for range spec.Conc {
		wg.Go(func() {
			var mine []time.Duration
			var myErrs int
			var myErr error
			for more() {
				d, err := one()
				if err != nil {
					myErrs++
					myErr = err
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += myErrs
			if firstErr == nil {
				firstErr = myErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	took := time.Since(start)
	if len(lat) == 0 {
		return loadResult{Errors: errs}, fmt.Errorf("no call succeeded: %v", firstErr)
	}
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "load: first error:", firstErr)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	res := loadResult{
		Calls: len(lat), Errors: errs, RPS: float64(len(lat)) / took.Seconds(),
		P50us: pct(0.50), P99us: pct(0.99),
	}
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	return res, nil
}

// setLoadRequest makes req a JSON POST of body to url (body is not copied).
func setLoadRequest(req *fasthttp.Request, url string, body []byte) {
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.SetBodyRaw(body)
}

// startRole starts a server role and returns its address; it stops with the test.
func startRole(tb testing.TB, role string, env ...string) string {
	tb.Helper()
	addr, _ := startRolePID(tb, role, env...)
	return addr
}

// startRolePID is startRole that also returns the role's process ID.
func startRolePID(tb testing.TB, role string, env ...string) (string, int) {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr syncBuffer // main_test.go
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		tb.Fatalf("%s did not start: %v %q\n%s", role, err, line, stderr.String())
	}
	return addr, cmd.Process.Pid
}

// runLoadProcess runs the load generator as a process and returns its result.
func runLoadProcess(tb testing.TB, spec loadSpec) loadResult {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), spec.env()...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("load generator against %s: %v\n%s", spec.Target, err, stderr.String())
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		tb.Fatalf("load generator output %q: %v", out, err)
	}
	res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res
}

// procCPU is the CPU time (user and system) a process has used so far, from
// /proc/PID/stat (Linux; 0 elsewhere). The kernel counts it in USER_HZ ticks,
// 100 a second on every Linux Go runs on.
func procCPU(pid int) time.Duration {
	f := procStat(pid)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of stat
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(utime+stime) * (time.Second / 100)
}

// procFaults is the minor page faults a process has taken so far (Linux; 0
// elsewhere). On the CI's virtual machines each costs ~16 µs (a page of memory
// the process had not touched before, or gave back), so a process whose heap
// grows or is returned to the system between bursts pays for it again.
func procFaults(pid int) int64 {
	f := procStat(pid)
	if len(f) < 8 {
		return 0
	}
	n, _ := strconv.ParseInt(f[7], 10, 64) // field 10 of stat
	return n
}

// procStat is the fields of /proc/PID/stat after the command name (field 3
// on), nil when it cannot be read.
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// rssBytes reads a process's resident set size (Linux; 0 elsewhere).
func rssBytes(pid int) int64 { return procStatus(pid, "VmRSS") }

// procStatus reads one kB figure of /proc/PID/status, in bytes (0 elsewhere).
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// soakDone is how an OpenAI stream ends.
const soakDone = "data: [DONE]\n\n"

// soakTail is an io.Writer that keeps only the last 32 bytes written: the
// load generator checks a stream's end without holding the stream.
type soakTail struct {
	b [32]byte
	n int
}

func (t *soakTail) Write(p []byte) (int, error) {
	k := len(p)
	if k >= len(t.b) {
		t.n = copy(t.b[:], p[k-len(t.b):])
		return k, nil
	}
	keep := min(t.n, len(t.b)-k)
	copy(t.b[:keep], t.b[t.n-keep:t.n])
	t.n = keep + copy(t.b[keep:], p)
	return k, nil
}

func (t *soakTail) bytes() []byte { return t.b[:t.n] }
