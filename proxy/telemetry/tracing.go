package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracer sends one span per call and a child span per attempt, with the
// OpenTelemetry GenAI conventions' attributes. Spans carry no bodies, headers,
// URLs or keys: names, counts, times and error classes only.
type tracer struct {
	tp *sdktrace.TracerProvider
	t  trace.Tracer
}

// Protocol is the OTLP protocol tracing uses: the [tracing] table's, else
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else
// "http/protobuf".
func Protocol(tc config.Tracing) string {
	for _, p := range []string{tc.Protocol, os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")} {
		if p != "" {
			return p
		}
	}
	return "http/protobuf"
}

func newTracer(tc config.Tracing, version string) (*tracer, error) {
	ctx := context.Background()
	var client otlptrace.Client
	switch p := Protocol(tc); p {
	case "grpc":
		var opts []otlptracegrpc.Option
		if tc.Endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(tc.Endpoint))
		}
		client = otlptracegrpc.NewClient(opts...)
	case "http/protobuf":
		var opts []otlptracehttp.Option
		if tc.Endpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(strings.TrimSuffix(tc.Endpoint, "/")+"/v1/traces"))
		}
		client = otlptracehttp.NewClient(opts...)
	default:
		return nil, fmt.Errorf("tracing: OTLP protocol %q is not grpc or http/protobuf", p)
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("tracing: start the OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithAttributes(
		attribute.String("service.name", "gatehouse"), attribute.String("service.version", version)))
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &tracer{tp: tp, t: tp.Tracer("github.com/gatehouse/gatehouse/proxy", trace.WithInstrumentationVersion(version))}, nil
}

// genAISystem is the gen_ai.system value of a provider name: the conventions'
// well-known values for the presets, the name itself otherwise.
func genAISystem(provider string) string {
	switch provider {
	case "gemini":
		return "gcp.gemini"
	case "mistral":
		return "mistral_ai"
	case "azure":
		return "az.ai.openai"
	}
	return provider
}

// emit sends the spans of one finished call, with its own times.
func (t *tracer) emit(o *observation) {
	name := "chat"
	if o.model != "" {
		name += " " + o.model
	}
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", o.model),
		attribute.Int("http.response.status_code", o.status),
		attribute.String("gatehouse.call.id", o.id),
		attribute.String("gatehouse.outcome", string(o.outcome)),
		attribute.Bool("gatehouse.stream", o.stream),
		attribute.Int("gatehouse.attempts", len(o.attempts)),
	}
	if o.provider != "" {
		attrs = append(attrs, attribute.String("gen_ai.system", genAISystem(o.provider)), attribute.String("gatehouse.provider", o.provider))
	}
	if o.upstr != "" {
		attrs = append(attrs, attribute.String("gen_ai.response.model", o.upstr))
	}
	if o.usage.InputTokens >= 0 {
		attrs = append(attrs, attribute.Int64("gen_ai.usage.input_tokens", o.usage.InputTokens))
	}
	if o.usage.OutputTokens >= 0 {
		attrs = append(attrs, attribute.Int64("gen_ai.usage.output_tokens", o.usage.OutputTokens))
	}
	if o.costKnown {
		attrs = append(attrs, attribute.Float64("gatehouse.cost_usd", o.cost))
	}
	if o.ttfb > 0 {
		attrs = append(attrs, attribute.Float64("gatehouse.first_byte_ms", float64(o.ttfb.Microseconds())/1000))
	}
	ctx, span := t.t.Start(context.Background(), name, trace.WithTimestamp(o.start), trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	if o.outcome != proxy.OutcomeOK {
		class := string(o.class)
		if class == "" {
			class = string(o.outcome)
		}
		span.SetAttributes(attribute.String("error.type", class))
		span.SetStatus(codes.Error, class)
	}
	for i := range o.attempts {
		a := &o.attempts[i]
		aname := "chat"
		if a.Model != "" {
			aname += " " + a.Model
		}
		aattrs := []attribute.KeyValue{
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.system", genAISystem(a.Provider)),
			attribute.String("gen_ai.request.model", a.Model),
			attribute.String("gatehouse.provider", a.Provider),
			attribute.Int("gatehouse.attempt", i+1),
			attribute.Float64("gatehouse.backoff_ms", float64(a.Delay.Microseconds())/1000),
		}
		if a.Status != 0 {
			aattrs = append(aattrs, attribute.Int("http.response.status_code", a.Status))
		}
		_, as := t.t.Start(ctx, aname, trace.WithTimestamp(a.Start), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(aattrs...))
		if a.Class != proxy.ClassNone {
			as.SetAttributes(attribute.String("error.type", string(a.Class)))
			as.SetStatus(codes.Error, string(a.Class))
		}
		as.End(trace.WithTimestamp(a.Start.Add(a.Duration)))
	}
	span.End(trace.WithTimestamp(o.start.Add(o.duration)))
}

func (t *tracer) shutdown(ctx context.Context) error {
	if err := t.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans: %w", err)
	}
	return nil
}
