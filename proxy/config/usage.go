package config

import (
	"fmt"
	"math"
)

// Price overrides or adds the price of one model (a [[price]] table): it
// replaces the built-in price of that model. Prices are US dollars per million
// tokens; input and output are required.
type Price struct {
	// Model is the upstream model name, or a prefix of dated names: "gpt-4o"
	// also prices "gpt-4o-2024-08-06".
	Model string `toml:"model"`
	// Input is the price of prompt tokens not read from the cache.
	Input *float64 `toml:"input"`
	// CachedInput is the price of prompt tokens read from the cache. Default: Input.
	CachedInput *float64 `toml:"cached_input"`
	// CacheWrite is the price of prompt tokens written to the cache (Anthropic).
	// Default: Input.
	CacheWrite *float64 `toml:"cache_write"`
	// Output is the price of generated tokens.
	Output *float64 `toml:"output"`
	// Reasoning is the price of thinking tokens (part of the output). Default: Output.
	Reasoning *float64 `toml:"reasoning"`
}

// Metrics is the Prometheus endpoint, GET /metrics on the proxy's listener
// (answered to loopback clients only).
type Metrics struct {
	// Enabled turns /metrics on. Default true.
	Enabled *bool `toml:"enabled"`
}

// On reports whether /metrics is served (default true).
func (m Metrics) On() bool { return m.Enabled == nil || *m.Enabled }

// Tracing is OpenTelemetry tracing over OTLP: one span per call and a child
// span per attempt, with no bodies and no keys. Where the spans go is read
// from the standard OTEL_EXPORTER_OTLP_* variables unless set here.
type Tracing struct {
	// Enabled turns tracing on. Default false.
	Enabled bool `toml:"enabled"`
	// Protocol is "grpc" or "http/protobuf". Default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
	// then OTEL_EXPORTER_OTLP_PROTOCOL, then "http/protobuf".
	Protocol string `toml:"protocol"`
	// Endpoint is the collector's URL (http://127.0.0.1:4318 for HTTP,
	// http://127.0.0.1:4317 for gRPC). Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
	// then OTEL_EXPORTER_OTLP_ENDPOINT, then the protocol's localhost port.
	Endpoint string `toml:"endpoint"`
}

// validateUsage checks the [[price]], [metrics] and [tracing] tables.
func (c *Config) validateUsage() error {
	models := map[string]bool{}
	for i, p := range c.Prices {
		if p.Model == "" {
			return &fieldError{table: "price", index: i, key: "model", msg: "must not be empty"}
		}
		if models[p.Model] {
			return &fieldError{table: "price", index: i, key: "model", msg: fmt.Sprintf("model %q is priced twice", p.Model)}
		}
		models[p.Model] = true
		if p.Input == nil {
			return &fieldError{table: "price", index: i, key: "input", msg: "is required (dollars per million prompt tokens; 0 for a free model)"}
		}
		if p.Output == nil {
			return &fieldError{table: "price", index: i, key: "output", msg: "is required (dollars per million generated tokens; 0 for a free model)"}
		}
		for _, f := range []struct {
			key string
			v   *float64
		}{{"input", p.Input}, {"cached_input", p.CachedInput}, {"cache_write", p.CacheWrite}, {"output", p.Output}, {"reasoning", p.Reasoning}} {
			if f.v != nil && (*f.v < 0 || math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
				return &fieldError{table: "price", index: i, key: f.key, msg: "must be a number of dollars per million tokens, 0 or more"}
			}
		}
	}
	switch c.Tracing.Protocol {
	case "", "grpc", "http/protobuf":
	default:
		return &fieldError{table: "tracing", key: "protocol", msg: fmt.Sprintf("%q is not one of grpc, http/protobuf", c.Tracing.Protocol)}
	}
	if c.Tracing.Endpoint != "" {
		if err := ValidBaseURL(c.Tracing.Endpoint); err != nil {
			return &fieldError{table: "tracing", key: "endpoint", msg: err.Error()}
		}
	}
	return nil
}
