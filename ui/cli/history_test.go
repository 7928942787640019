package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHistoryCLIOnFile(t *testing.T) {
	dir := t.TempDir()
	ids := seedHistory(t, dir)

	t.Run("json lines have the documented fields", func(t *testing.T) {
		code, out, errOut := gatehouse(t, "", "history", "--data", dir, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := jsonLines(t, out)
		if len(lines) != 8 {
			t.Fatalf("%d lines, want 8", len(lines))
		}
		for _, k := range []string{"id", "time", "path", "inbound_format", "model", "provider", "upstream_model", "stream",
			"outcome", "status", "duration_ms", "ttfb_ms", "attempts", "input_tokens", "output_tokens", "error"} {
			if _, ok := lines[0][k]; !ok {
				t.Errorf("line lacks %q: %v", k, lines[0])
			}
		}
		if lines[0]["id"] != ids[0] {
			t.Errorf("first line is %v, want the newest call %s", lines[0]["id"], ids[0])
		}
		if _, err := time.Parse(time.RFC3339, lines[0]["time"].(string)); err != nil {
			t.Errorf("time %v is not RFC 3339: %v", lines[0]["time"], err)
		}
		if lines[0]["input_tokens"] != 27.0 || lines[0]["output_tokens"] != nil {
			t.Errorf("tokens in/out = %v/%v, want 27/null", lines[0]["input_tokens"], lines[0]["output_tokens"])
		}
		att := lines[0]["attempts"].([]any)[0].(map[string]any)
		for _, k := range []string{"provider", "model", "status", "error", "error_class", "duration_ms", "delay_ms"} {
			if _, ok := att[k]; !ok {
				t.Errorf("attempt lacks %q: %v", k, att)
			}
		}
		if _, ok := lines[0]["request"]; ok {
			t.Errorf("list line carries the request body")
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want int
		}{
			{[]string{"--failed"}, 2},
			{[]string{"--outcome", "ok"}, 6},
			{[]string{"--provider", "anthropic"}, 2},
			{[]string{"--model", "gpt-4o"}, 8},
			{[]string{"--since", "1h"}, 7},
			{[]string{"--since", "3d"}, 8},
			{[]string{"--search", "failing question"}, 2},
			{[]string{"--search", "Canberra", "--failed"}, 2},
			{[]string{"--status", "502"}, 2},
			{[]string{"--client", "CLI-TEST"}, 8},
			{[]string{"--limit", "3"}, 3},
		} {
			code, out, errOut := gatehouse(t, "", append([]string{"history", "--data", dir, "--json"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
			}
			if got := len(jsonLines(t, out)); got != tt.want {
				t.Errorf("history %v: %d calls, want %d", tt.args, got, tt.want)
			}
		}
	})

	t.Run("table", func(t *testing.T) {
		code, out, _ := gatehouse(t, "", "history", "--data", dir, "--failed")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], ids[0]) ||
			!strings.Contains(lines[1], "upstream answered 502") || !strings.Contains(lines[1], "27/?") {
			t.Errorf("table:\n%s", out)
		}
	})

	t.Run("GATEHOUSE_DATA", func(t *testing.T) {
		t.Setenv("GATEHOUSE_DATA", dir)
		code, out, _ := gatehouse(t, "", "history", "--json", "--failed")
		if code != 0 || len(jsonLines(t, out)) != 2 {
			t.Errorf("with GATEHOUSE_DATA: exit %d, output %q", code, out)
		}
	})

	t.Run("show", func(t *testing.T) {
		code, out, errOut := gatehouse(t, "", "history", "show", ids[0], "--data", dir, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		c := jsonLines(t, out)[0]
		req, _ := c["request"].(map[string]any)
		resp, _ := c["response"].(map[string]any)
		if req == nil || resp == nil || req["body"] != `{"messages":[{"content":"failing question two"}]}` ||
			resp["truncated"] != false || resp["headers"] == nil {
			t.Errorf("show --json request %v, response %v", req, resp)
		}
		code, out, _ = gatehouse(t, "", "history", "show", "--data", dir, ids[0])
		if code != 0 || !strings.Contains(out, "Attempts (1, 1 sent upstream)") || !strings.Contains(out, "failing question two") || !strings.Contains(out, "upstream_5xx") {
			t.Errorf("show (text): exit %d\n%s", code, out)
		}
	})

	t.Run("export", func(t *testing.T) {
		code, out, _ := gatehouse(t, "", "history", "export", "--data", dir, "--failed")
		lines := jsonLines(t, out)
		if code != 0 || len(lines) != 2 || lines[0]["request"] == nil {
			t.Errorf("export --failed: exit %d, %d lines, first %v", code, len(lines), lines)
		}
		code, out, _ = gatehouse(t, "", "history", "export", "--data", dir, "--since", "1h")
		if n := len(jsonLines(t, out)); code != 0 || n != 7 {
			t.Errorf("export --since 1h: exit %d, %d lines, want 7", code, n)
		}
	})

	t.Run("mistakes", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"history", "--data", dir, "--outcome", "bogus"}, 2, "--outcome"},
			{[]string{"history", "--data", dir, "--since", "yesterday"}, 2, "--since"},
			{[]string{"history", "show", "--data", dir, "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 1, "no call with id"},
			{[]string{"history", "show", "--data", dir}, 2, "usage"},
			{[]string{"history", "frobnicate"}, 2, "unknown subcommand"},
		} {
			code, _, errOut := gatehouse(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.msg)
			}
		}
	})

	t.Run("prune", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte("[history]\nmax_age = \"24h\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := gatehouse(t, "", "history", "prune", "--data", dir)
		if code != 0 || !strings.Contains(out, "pruned 1 calls") {
			t.Fatalf("prune: exit %d, %q %q", code, out, errOut)
		}
		_, out, _ = gatehouse(t, "", "history", "--data", dir, "--json")
		if n := len(jsonLines(t, out)); n != 7 {
			t.Errorf("after prune: %d calls, want 7", n)
		}
	})
}
