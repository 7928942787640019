package config

import (
	"strings"
	"testing"
)

func TestUsageTablesNameLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"price without output", "[[price]]\nmodel = \"a\"\ninput = 1\noutput = 1\n[[price]]\nmodel = \"b\"\ninput = 1\n", []string{"c.toml:5", "price[1].output", "required"}},
		{"negative price", "[[price]]\nmodel = \"a\"\ninput = 1\noutput = -2\n", []string{"c.toml:4", "price[0].output"}},
		{"price twice", "[[price]]\nmodel = \"a\"\ninput = 1\noutput = 1\n[[price]]\nmodel = \"a\"\ninput = 1\noutput = 1\n", []string{"c.toml:6", "price[1].model", "twice"}},
		{"price as text", "[[price]]\nmodel = \"a\"\ninput = \"cheap\"\n", []string{"c.toml:3", "input"}},
		{"tracing protocol", "[tracing]\nenabled = true\nprotocol = \"zipkin\"\n", []string{"c.toml:3", "tracing.protocol", "grpc"}},
		{"tracing endpoint", "[tracing]\nendpoint = \"127.0.0.1:4318\"\n", []string{"c.toml:2", "tracing.endpoint", "http://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "c.toml")
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tc.src)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestUsageDefaults(t *testing.T) {
	c, err := Parse([]byte("[[price]]\nmodel = \"llama3.2\"\ninput = 0\noutput = 0\n"), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Metrics.On() || c.Tracing.Enabled {
		t.Errorf("metrics on = %v, tracing on = %v; want true, false", c.Metrics.On(), c.Tracing.Enabled)
	}
	if len(c.Prices) != 1 || *c.Prices[0].Input != 0 {
		t.Errorf("prices = %+v", c.Prices)
	}
}
