package store

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"
)

// openTest opens a history in a fresh temp folder and, at cleanup, closes it and
// runs bbolt's consistency check over the file.
func openTest(t testing.TB, opts Options) *History {
	t.Helper()
	dir := t.TempDir()
	h, err := OpenHistory(dir, opts)
	if err != nil {
		t.Fatalf("OpenHistory: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		checkFile(t, h.Path())
	})
	return h
}

// checkFile opens a closed history file and runs tx.Check over it.
func checkFile(t testing.TB, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("reopen %s: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Errorf("consistency check of %s: %v", path, err)
	}
}

// callAt builds a call made at t with the given outcome and provider.
func callAt(t time.Time, outcome, provider string) *Call {
	status := 200
	if outcome != OutcomeOK {
		status = 502
	}
	return &Call{
		ID:            ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy()).String(),
		Time:          t,
		Method:        "POST",
		Path:          "/v1/chat/completions",
		ClientUA:      "test-client/1.0",
		InboundFormat: "openai",
		Model:         "gpt-test",
		Provider:      provider,
		UpstreamModel: "gpt-test-up",
		Outcome:       outcome,
		Status:        status,
		DurationMS:    120,
		TTFBMS:        40,
		Attempts:      []Attempt{{Provider: provider, Model: "gpt-test-up", Status: status, DurationMS: 100}},
		InputTokens:   Tokens(10),
		OutputTokens:  Tokens(5),
	}
}

// bodiesOf builds request and response bodies.
func bodiesOf(req, resp string) *Bodies {
	return &Bodies{
		Request:  RawMessage{Headers: []Header{{"Content-Type", "application/json"}}, Body: []byte(req)},
		Response: RawMessage{Headers: []Header{{"Content-Type", "application/json"}}, Body: []byte(resp)},
	}
}

func reqBody(n int) string {
	return fmt.Sprintf(`{"model":"gpt-test","messages":[{"role":"user","content":"question %d"}]}`, n)
}

func padBody(size int) string {
	return `{"pad":"` + strings.Repeat("x", max(size-10, 0)) + `"}`
}

// syncLog collects a logger's text output; safe for concurrent use.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *syncLog) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
