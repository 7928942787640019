package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// TestSDKsSendClientTokens: the official OpenAI and Anthropic Node SDKs send a
// Gatehouse client token as their API key. Calls in the token's scope
// succeed and are recorded under the client's name; a model outside it gets a
// 403 the SDK surfaces with Gatehouse's message (issue 13).
func TestSDKsSendClientTokens(t *testing.T) {
	dir := realClients(t)
	up := startUpstream(t, "provider-key")
	data := t.TempDir()
	writeTestConfig(t, data, up)
	t.Setenv("GATEHOUSE_TEST_KEY", "provider-key")
	st, base := startTestStack(t, data)
	tok, err := st.clients.Add(cli.ClientSpec{Name: "sdk-app", Models: []string{"gpt-4o"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{"openai-chat", "anthropic"} {
		t.Run(client, func(t *testing.T) {
			cmd := sdkCmd(t, dir, client, base, "gpt-4o", []string{"text", "stream"})
			cmd.env = append(cmd.env, "GATEHOUSE_SDK_KEY="+tok)
			res := cmd.run(90 * time.Second)
			for _, line := range sdkLines(t, res.stdout) {
				if line.Error != "" || !strings.Contains(line.Text, "Canberra") {
					t.Errorf("%s %s with a client token: text %q, error %s\nstderr: %s", client, line.Mode, line.Text, line.Error, res.stderr)
				}
			}
			cmd = sdkCmd(t, dir, client, base, "gpt-4.1", []string{"text"})
			cmd.env = append(cmd.env, "GATEHOUSE_SDK_KEY="+tok)
			res = cmd.run(90 * time.Second)
			lines := sdkLines(t, res.stdout)
			if len(lines) != 1 || !strings.Contains(lines[0].Error, "403") || !strings.Contains(lines[0].Error, "models scope is gpt-4o") {
				t.Errorf("%s out of scope: want the SDK to surface the 403 naming the scope, got %+v", client, lines)
			}
		})
	}
	if k := up.lastKey(); k != "provider-key" {
		t.Errorf("the upstream got key %q, want the provider's", k)
	}
	var page store.Page
	for range 50 {
		if page, err = st.history.List(store.Query{Client: "sdk-app"}); err == nil && len(page.Calls) >= 6 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var ok, refused int
	for _, c := range page.Calls {
		switch {
		case c.Client != "sdk-app":
			t.Errorf("call %s recorded for client %q", c.ID, c.Client)
		case c.Status == 200:
			ok++
		case c.Status == 403:
			refused++
		}
	}
	if ok != 4 || refused != 2 {
		t.Errorf("history of sdk-app: %d ok, %d refused, want 4 and 2", ok, refused)
	}
}

type sdkLine struct{ Mode, Text, Error string }

func sdkLines(t testing.TB, stdout string) []sdkLine {
	t.Helper()
	var out []sdkLine
	dec := json.NewDecoder(strings.NewReader(stdout))
	for dec.More() {
		var l sdkLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("sdk.mjs output: %v\n%s", err, stdout)
		}
		out = append(out, l)
	}
	return out
}
