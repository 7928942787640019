package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(path string, data []byte, mode os.FileMode) error {
	return os.WriteFile(path, data, mode)
}

// TestClientsFileHoldsOnlyHashes: a token is gh_ + 43 base62 characters, and
// the file (mode 0600) holds its SHA-256, never the token.
func TestClientsFileHoldsOnlyHashes(t *testing.T) {
	dir := t.TempDir()
	tok, sum, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != 46 || HashToken(tok) != sum {
		t.Fatalf("NewToken = %q, %q", tok, sum)
	}
	err = EditClients(dir, writeFile, func(l []Client) ([]Client, error) {
		return append(l, Client{Name: "ci-bot", SHA256: sum, Models: []string{"gpt-*"}, DailyTokens: 1000}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ClientsFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), tok) || strings.Contains(string(b), tok[3:]) || !strings.Contains(string(b), sum) {
		t.Errorf("clients file holds the token or lacks its hash:\n%s", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, ClientsFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("clients file mode %v, want 0600", fi.Mode().Perm())
	}
	list, err := LoadClients(dir)
	if err != nil || len(list) != 1 || list[0].Name != "ci-bot" || list[0].DailyTokens != 1000 {
		t.Errorf("LoadClients = %+v, %v", list, err)
	}
	for _, bad := range []string{"", "local", "Upper", "a b", strings.Repeat("x", 65)} {
		if ValidClientName(bad) {
			t.Errorf("ValidClientName(%q) = true", bad)
		}
	}
}

// TestClientActivity: today's tokens per client and model, and the last use,
// come back from the history (what a restart seeds the budgets with).
func TestClientActivity(t *testing.T) {
	h := openTest(t, Options{})
	now := time.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	for _, c := range []struct {
		at     time.Time
		client string
	}{
		{day.Add(-2 * time.Hour), "ci-bot"}, // yesterday: last use only
		{day.Add(time.Minute), "ci-bot"},
		{day.Add(2 * time.Minute), "ci-bot"},
		{day.Add(3 * time.Minute), "local"},
		{day.Add(4 * time.Minute), ""},
	} {
		call := callAt(c.at, OutcomeOK, "p")
		call.Client = c.client
		usd := 0.25
		call.CostUSD = &usd
		h.Record(call, bodiesOf("{}", "{}"))
	}
	h.Flush()
	act, err := h.ClientActivity(day, day.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	a := act["ci-bot"]
	if len(act) != 1 || a == nil {
		t.Fatalf("activity %v, want ci-bot only", act)
	}
	if a.Calls != 2 || a.Tokens != 30 || a.USD != 0.5 {
		t.Errorf("today %+v, want 2 calls, 30 tokens, $0.50", a)
	}
	if !a.LastUsed.Equal(day.Add(2 * time.Minute)) {
		t.Errorf("last used %v, want %v", a.LastUsed, day.Add(2*time.Minute))
	}
}

// TestQueryByClientName: --client matches a token's name exactly, "local"
// the calls without one (recorded before tokens existed too), and still a
// User-Agent.
func TestQueryByClientName(t *testing.T) {
	h := openTest(t, Options{})
	now := time.Now()
	for i, client := range []string{"ci-bot", "local", "", "ci-bot-2"} {
		c := callAt(now.Add(time.Duration(i)*time.Second), OutcomeOK, "p")
		c.Client = client
		h.Record(c, bodiesOf("{}", "{}"))
	}
	h.Flush()
	for _, tc := range []struct {
		q    string
		want int
	}{{"ci-bot", 1}, {"CI-BOT", 1}, {"local", 2}, {"test-client", 4}, {"nobody", 0}} {
		p, err := h.List(Query{Client: tc.q})
		if err != nil || len(p.Calls) != tc.want {
			t.Errorf("Query{Client: %q}: %d calls, %v; want %d", tc.q, len(p.Calls), err, tc.want)
		}
	}
}
