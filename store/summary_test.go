package store

import (
	"encoding/json"
	"testing"
	"time"
)

// The hand-written summary encoder must produce what encoding/json produces:
// decodeSummary and every reader of old files rely on that format.
func TestSummaryMatchesEncodingJSON(t *testing.T) {
	tricky := "quote \" backslash \\ <html> & ctl \x01\x1f\b\f\n\r\t bad \xff utf8 \u2028\u2029 é 日本"
	full := callAt(time.Date(2026, 11, 30, 5, 6, 7, 890123000, time.FixedZone("x", 3600)), OutcomeError, "open<ai>")
	full.Error, full.ClientUA, full.Path = tricky, tricky, "/v1/chat?key="+tricky
	full.CacheReadTokens, full.CacheWriteTokens, full.ReasoningTokens = Tokens(1), Tokens(0), Tokens(7)
	full.BodiesDropped, full.Stream = true, true
	full.Attempts = append(full.Attempts, Attempt{Provider: "b", URL: "http://x/" + tricky, Error: tricky, ErrorClass: "rate_limit", Start: time.Now(), DurationMS: 3, DelayMS: 9,
		Method: "POST", KeySource: "env " + tricky, KeyMask: "sk-…abcd", ConnectMS: 1, FirstByteMS: 2,
		CircuitOpened: true, CircuitUntil: time.Now().Add(time.Minute)})
	bare := &Call{}
	noAttempts := callAt(time.Now(), OutcomeOK, "")
	noAttempts.Attempts, noAttempts.InputTokens = []Attempt{}, nil
	var costs []*Call
	for _, usd := range []float64{0, 0.0125, 2.5e-7, 1234.5678, 1e-6, 3e21} {
		c := callAt(time.Now(), OutcomeOK, "")
		c.CostUSD = &usd
		costs = append(costs, c)
	}
	for i, c := range append([]*Call{full, bare, noAttempts}, costs...) {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendSummary(nil, c); string(got) != string(want) {
			t.Errorf("call %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
