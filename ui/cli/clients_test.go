package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// TestClientsCommandsWithoutInstance: with no Gatehouse running, the clients
// commands edit the data folder's file; a token is printed once, rotate
// replaces it, remove revokes it.
func TestClientsCommandsWithoutInstance(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := gatehouse(t, "", "clients", "add", "ci-bot", "--data", data, "--models", "gpt-4o*,claude-*", "--daily-tokens", "5000", "--expires", "30d")
	tok, _, _ := strings.Cut(out, "\n")
	if code != 0 || !strings.HasPrefix(tok, "gh_") || !strings.Contains(out, "shown only this once") {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	if code, _, errOut = gatehouse(t, "", "clients", "add", "ci-bot", "--data", data); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("adding it twice: %d %q", code, errOut)
	}
	code, out, _ = gatehouse(t, "", "clients", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "ci-bot") || !strings.Contains(out, "gpt-4o*,claude-*") || !strings.Contains(out, "0 / 5000") || strings.Contains(out, tok) {
		t.Errorf("list: %d\n%s", code, out)
	}
	code, out, _ = gatehouse(t, "", "clients", "rotate", "ci-bot", "--data", data)
	tok2, _, _ := strings.Cut(out, "\n")
	list, _ := store.LoadClients(data)
	if code != 0 || tok2 == tok || len(list) != 1 || list[0].SHA256 != store.HashToken(tok2) || list[0].DailyTokens != 5000 {
		t.Errorf("rotate: %d %q; file %+v", code, out, list)
	}
	if code, out, _ = gatehouse(t, "", "clients", "remove", "ci-bot", "--data", data); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("remove: %d %q", code, out)
	}
	if err := (ClientBook{DataDir: data}).Remove("ci-bot"); !errors.Is(err, store.ErrNoClient) {
		t.Errorf("removing it again: %v", err)
	}
	for _, args := range [][]string{
		{"clients", "add", "local"},
		{"clients", "add", "x", "--expires", "soon"},
		{"clients", "add", "x", "--models", "gpt-[4]"},
		{"clients", "frob"},
	} {
		if code, _, errOut := gatehouse(t, "", append(args, "--data", data)...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage): %s", args, code, errOut)
		}
	}
}
