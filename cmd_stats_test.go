package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// TestStatsAndCostAgainstRunningInstance: each call's record carries its cost,
// `history` shows it, and `gatehouse stats` answers from the running instance
// and, once it stops, from the file.
func TestStatsAndCostAgainstRunningInstance(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t, "")
	writeTestConfig(t, dir, up)
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	st, base := startTestStack(t, dir)
	for i := range 3 {
		if _, status := chat(t, base, "capital question "+string(rune('a'+i)), ""); status != 200 {
			t.Fatalf("chat: status %d", status)
		}
	}
	if _, status := chat(t, base, "please-fail", ""); status != 502 {
		t.Fatalf("failing chat: status %d", status)
	}
	st.history.Flush()

	// gpt-4o: 27 prompt tokens at $2.50/M, 8 completion tokens at $10/M.
	const want = (27*2.50 + 8*10.00) / 1e6
	code, out, errOut := gatehouse(t, "", "history", "--data", dir, "--json")
	lines := jsonLines(t, out)
	if code != 0 || len(lines) != 4 {
		t.Fatalf("history: exit %d, %d calls: %s", code, len(lines), errOut)
	}
	if c, ok := lines[1]["cost_usd"].(float64); !ok || math.Abs(c-want) > 1e-12 {
		t.Errorf("ok call cost_usd = %v, want %v", lines[1]["cost_usd"], want)
	}
	if _, ok := lines[0]["cost_usd"]; ok {
		t.Errorf("failed call without usage has cost_usd %v, want none", lines[0]["cost_usd"])
	}
	code, out, _ = gatehouse(t, "", "history", "--data", dir)
	if code != 0 || !strings.Contains(out, "COST") || !strings.Contains(out, "$0.0001") || !strings.Contains(out, "–") {
		t.Errorf("history table lacks the cost column, a cost or the dash of an unknown cost:\n%s", out)
	}

	check := func(when string) {
		t.Helper()
		code, out, errOut := gatehouse(t, "", "stats", "--data", dir, "--since", "1h", "--by", "model", "--json")
		if code != 0 {
			t.Fatalf("stats %s: exit %d: %s", when, code, errOut)
		}
		var rep store.UsageReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("stats %s: %v in %s", when, err, out)
		}
		tot := rep.Total
		// No latency check here: local calls take under a millisecond, so 0 ms
		// is a right p50 on a quiet machine (it failed there); the store's
		// TestUsageFromRollups checks percentiles of known durations.
		if tot.Calls != 4 || tot.Failures != 1 || tot.InputTokens != 81 || tot.OutputTokens != 24 || tot.CostUnknownCalls != 0 ||
			math.Abs(tot.CostUSD-3*want) > 1e-12 {
			t.Errorf("stats %s: totals %+v; want 4 calls, 1 failure, 81/24 tokens, $%v and none unpriced (the failure was not billed)", when, tot, 3*want)
		}
		if len(rep.Groups) != 1 || rep.Groups[0].Key != "gpt-4o" {
			t.Errorf("stats %s: groups %+v, want gpt-4o", when, rep.Groups)
		}
		code, out, _ = gatehouse(t, "", "stats", "--data", dir, "--by", "provider")
		if code != 0 || !strings.Contains(out, "calls 4, failures 1 (25.0 %)") || !strings.Contains(out, "PROVIDER") {
			t.Errorf("stats %s, table:\n%s", when, out)
		}
	}
	check("while running")
	st.stop()
	check("on the file")

	code, _, errOut = gatehouse(t, "", "stats", "--data", dir, "--by", "colour")
	if code != 2 || !strings.Contains(errOut, "--by") {
		t.Errorf("stats --by colour: exit %d, %q; want 2 and a word about --by", code, errOut)
	}
}
