package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/valyala/fasthttp"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// secretKey is the provider key: it must appear in no span.
const secretKey = "sk-telemetry-test-9f8e7d6c5b4a"

// flakyUpstream is an OpenAI-format provider on 127.0.0.1 whose first answer
// is a 503 and every later one a completion with usage.
func flakyUpstream(t testing.TB) string {
	t.Helper()
	var n atomic.Int64
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		if n.Add(1) == 1 {
			ctx.SetStatusCode(503)
			ctx.SetBodyString(`{"error":{"message":"overloaded","type":"server_error"}}`)
			return
		}
		ctx.SetBodyString(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Canberra"},"finish_reason":"stop"}],"usage":{"prompt_tokens":27,"completion_tokens":8,"total_tokens":35}}`)
	}}
	return serveFast(t, srv)
}

func serveFast(t testing.TB, srv *fasthttp.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// receiver collects the spans an OTLP receiver got, over either protocol.
type receiver struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
	raw   bytes.Buffer // every request as received, to look for secrets
}

func (r *receiver) add(req *collectortrace.ExportTraceServiceRequest, raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw.Write(raw)
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
}

func (r *receiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	raw, _ := proto.Marshal(req) // what came over the wire, re-encoded
	r.add(req, raw)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// startHTTPReceiver is an OTLP/HTTP (protobuf) receiver on 127.0.0.1.
func startHTTPReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var msg collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &msg)
		}
		if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, fmt.Sprintf("bad export: %v (%s)", err, req.Header.Get("Content-Type")), http.StatusBadRequest)
			return
		}
		r.add(&msg, body)
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// startGRPCReceiver is an OTLP/gRPC receiver on 127.0.0.1.
func startGRPCReceiver(t *testing.T, r *receiver) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, r)
	go srv.Serve(ln) //nolint:errcheck // ends with Stop
	t.Cleanup(srv.Stop)
	return "http://" + ln.Addr().String()
}

// stack is a proxy with an exporter, routing gpt-* to upstream.
func stack(t *testing.T, upstream, tracing string) (*Exporter, string) {
	t.Helper()
	cfg, err := config.Parse([]byte(`
[retry]
attempts = 3
base_delay = "1ms"
max_delay = "2ms"

[[provider]]
name = "openai"
models = []

[[provider]]
name = "up"
format = "openai"
base_url = "http://`+upstream+`/v1"
models = ["gpt-*"]
key_env = "TELEMETRY_TEST_KEY"
`+tracing), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TELEMETRY_TEST_KEY", secretKey)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var srv *proxy.Server
	exp, err := New(Options{
		Config: func() *config.Config { return cfg }, Version: "v-test", Metrics: true, Logger: log,
		Circuits: func() []proxy.CircuitState { return srv.Circuits() },
		History:  func() HistoryStats { return HistoryStats{QueueDepth: 3, DroppedCalls: 1} },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Close(context.Background()) })
	srv, err = proxy.New(cfg, proxy.Options{Observer: exp, Metrics: exp.Handler(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return exp, serveProxy(t, srv)
}

// serveProxy serves srv on 127.0.0.1 until the test ends and returns its address.
func serveProxy(t *testing.T, srv *proxy.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func chat(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"capital of Australia?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
}

// scrape reads /metrics with the Prometheus text parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not valid exposition: %v", err)
	}
	return mfs
}

// value is the value of the metric with exactly these labels (-1: none).
func value(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	_, addr := stack(t, flakyUpstream(t), "")
	chat(t, addr) // a 503, then an answer: a saved call
	chat(t, addr)
	mfs := scrape(t, addr)
	up := map[string]string{"provider": "up", "model": "gpt-4o"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range up {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gatehouse_requests_total", with("status", "200", "class", "none"), 2},
		{"gatehouse_request_duration_seconds", up, 2},
		{"gatehouse_first_byte_seconds", up, 2},
		{"gatehouse_tokens_total", with("type", "input"), 54},
		{"gatehouse_tokens_total", with("type", "output"), 16},
		{"gatehouse_cost_usd_total", up, 2 * (27*2.50 + 8*10.00) / 1e6},
		{"gatehouse_attempts_total", map[string]string{"provider": "up", "class": "overloaded"}, 1},
		{"gatehouse_attempts_total", map[string]string{"provider": "up", "class": "none"}, 2},
		{"gatehouse_retries_total", map[string]string{"provider": "up"}, 1},
		{"gatehouse_saved_calls_total", map[string]string{}, 1},
		{"gatehouse_circuit_open", map[string]string{"provider": "up"}, 0},
		{"gatehouse_history_queue_depth", map[string]string{}, 3},
		{"gatehouse_history_dropped_calls_total", map[string]string{}, 1},
		{"gatehouse_build_info", map[string]string{"version": "v-test", "goversion": runtime.Version()}, 1},
	} {
		if got := value(mfs, c.name, c.labels); got < c.want-1e-12 || got > c.want+1e-12 {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestMetricsModelLabelIsBounded(t *testing.T) {
	cfg := config.Default()
	cfg.Routes = []config.Route{{Model: "smart", Targets: []string{"openai/my-finetune"}}}
	m := newMetrics(&Exporter{opts: Options{Config: func() *config.Config { return cfg }}})
	for in, want := range map[string]string{
		"gpt-4o-2024-08-06": "gpt-4o", "my-finetune": "my-finetune", "claude-sonnet-4-20250514": "claude-sonnet-4",
		"random-model-42": "other", "": "none",
	} {
		if got := m.label(in); got != want {
			t.Errorf("label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMetricsOnlyForAllowedClients(t *testing.T) {
	cfg := config.Default()
	exp, err := New(Options{Config: func() *config.Config { return cfg }, Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close(context.Background())
	srv, err := proxy.New(cfg, proxy.Options{Metrics: exp.Handler(), AllowMetrics: func(*fasthttp.RequestCtx) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + serveProxy(t, srv) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics for a refused client: %d, want 403", resp.StatusCode)
	}
}

func TestTracing(t *testing.T) {
	for _, proto := range []string{"http/protobuf", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			r := &receiver{}
			var endpoint string
			if proto == "grpc" {
				endpoint = startGRPCReceiver(t, r)
			} else {
				endpoint = startHTTPReceiver(t, r)
			}
			// The standard variables point the exporter at the receiver; the
			// config only switches tracing on.
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
			exp, addr := stack(t, flakyUpstream(t), "\n[tracing]\nenabled = true\n")
			chat(t, addr)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := exp.Close(ctx); err != nil {
				t.Fatal(err)
			}
			checkSpans(t, r)
		})
	}
}

func checkSpans(t *testing.T, r *receiver) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.spans) != 3 {
		t.Fatalf("receiver got %d spans, want 3 (the call and its 2 attempts)", len(r.spans))
	}
	var call *tracepb.Span
	for _, s := range r.spans {
		if len(s.ParentSpanId) == 0 {
			call = s
		}
	}
	if call == nil || call.Name != "chat gpt-4o" || call.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Fatalf("no call span named \"chat gpt-4o\" among %v", r.spans)
	}
	attrs := func(s *tracepb.Span) map[string]*commonpb.AnyValue {
		m := map[string]*commonpb.AnyValue{}
		for _, kv := range s.Attributes {
			m[kv.Key] = kv.Value
		}
		return m
	}
	a := attrs(call)
	if a["gen_ai.system"].GetStringValue() != "up" || a["gen_ai.request.model"].GetStringValue() != "gpt-4o" ||
		a["gen_ai.response.model"].GetStringValue() != "gpt-4o" || a["gen_ai.usage.input_tokens"].GetIntValue() != 27 ||
		a["gen_ai.usage.output_tokens"].GetIntValue() != 8 || a["gen_ai.operation.name"].GetStringValue() != "chat" {
		t.Errorf("call span attributes = %v", a)
	}
	if _, ok := a["error.type"]; ok {
		t.Errorf("an answered call has error.type %v", a["error.type"])
	}
	if call.EndTimeUnixNano <= call.StartTimeUnixNano {
		t.Errorf("call span ends at %d, before its start %d", call.EndTimeUnixNano, call.StartTimeUnixNano)
	}
	var classes []string
	for _, s := range r.spans {
		if s == call {
			continue
		}
		if !bytes.Equal(s.ParentSpanId, call.SpanId) || !bytes.Equal(s.TraceId, call.TraceId) || s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			t.Errorf("attempt span %q is not a client child of the call span", s.Name)
		}
		classes = append(classes, attrs(s)["error.type"].GetStringValue())
		if s.StartTimeUnixNano < call.StartTimeUnixNano || s.EndTimeUnixNano > call.EndTimeUnixNano {
			t.Errorf("attempt span %q lies outside its call", s.Name)
		}
	}
	if !(classes[0] == "overloaded" && classes[1] == "" || classes[1] == "overloaded" && classes[0] == "") {
		t.Errorf("attempt error.type = %q, want one overloaded and one without", classes)
	}
	for _, secret := range []string{secretKey, "capital of Australia", "Canberra", "/v1/chat/completions"} {
		if bytes.Contains(r.raw.Bytes(), []byte(secret)) {
			t.Errorf("the spans carry %q", secret)
		}
	}
}
