package config

import "testing"

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
