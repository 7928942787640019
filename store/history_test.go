package store

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRecordThenGetRoundTrip(t *testing.T) {
	h := openTest(t, Options{})
	c := callAt(time.Now(), OutcomeError, "openai")
	c.Error = "upstream said 502"
	id := c.ID
	if !h.Record(c, bodiesOf(reqBody(1), `{"error":"bad gateway"}`)) {
		t.Fatal("Record refused a call on an idle queue")
	}
	h.Flush()
	got, err := h.Get(id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	if got.Outcome != OutcomeError || got.Status != 502 || got.Error != "upstream said 502" || got.Provider != "openai" {
		t.Errorf("Get(%s) summary = %+v", id, got)
	}
	if got.Request == nil || got.Request.Body != reqBody(1) {
		t.Errorf("Get(%s).Request = %+v, want body %q", id, got.Request, reqBody(1))
	}
	if got.Response == nil || got.Response.Body != `{"error":"bad gateway"}` || got.Response.Truncated {
		t.Errorf("Get(%s).Response = %+v", id, got.Response)
	}
	if *got.InputTokens != 10 || *got.OutputTokens != 5 {
		t.Errorf("tokens = %d/%d, want 10/5", *got.InputTokens, *got.OutputTokens)
	}
	if _, err := h.Get("01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestFileIsPrivate(t *testing.T) {
	h := openTest(t, Options{})
	fi, err := os.Stat(h.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode = %v, want 0600", h.Path(), fi.Mode().Perm())
	}
}

func TestSecondOpenFailsFastWithClearError(t *testing.T) {
	dir := t.TempDir()
	h, err := OpenHistory(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	start := time.Now()
	_, err = OpenHistory(dir, Options{})
	took := time.Since(start)
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second OpenHistory err = %v, want ErrAlreadyRunning", err)
	}
	if !strings.Contains(err.Error(), "already running with data folder "+dir) {
		t.Errorf("error %q does not name the data folder %s", err, dir)
	}
	if took > 2*time.Second {
		t.Errorf("second open took %v, want < 2s", took)
	}
}

func TestCloseFlushesQueue(t *testing.T) {
	dir := t.TempDir()
	// A flush interval far longer than the test: only Close can write the calls.
	h, err := OpenHistory(dir, Options{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	for i := range 500 {
		h.Record(callAt(base.Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai"), bodiesOf(reqBody(i), "{}"))
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2, err := OpenHistory(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	page, err := h2.List(Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != 500 {
		t.Errorf("after Close and reopen: %d calls, want 500", len(page.Calls))
	}
}

func TestRecordWrittenWithinFlushInterval(t *testing.T) {
	h := openTest(t, Options{})
	c := callAt(time.Now(), OutcomeOK, "openai")
	id := c.ID
	h.Record(c, nil)
	deadline := time.Now().Add(time.Second)
	for {
		if _, err := h.Get(id); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s not on disk 1s after Record (flush interval 200ms)", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRecordAfterCloseRefused(t *testing.T) {
	h, err := OpenHistory(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if h.Record(callAt(time.Now(), OutcomeOK, "openai"), nil) {
		t.Error("Record after Close reported the call queued")
	}
	h.Flush() // must not hang
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Once a call is encoded, the writer lets go of the bodies it was handed: a
// subscriber to the feed keeps the call, and a caller may have allocated the
// call and its bodies together, so holding on to them kept every body a
// subscriber had seen alive. The stored call still has them.
func TestWriterLetsGoOfRecordedBodies(t *testing.T) {
	h := openTest(t, Options{})
	feed, stop := h.Subscribe(4)
	defer stop()
	c := callAt(time.Now(), OutcomeOK, "openai")
	b := bodiesOf(reqBody(1), `{"id":"r1"}`)
	b.Attempts = []AttemptBodies{{Request: RawMessage{HeaderBlock: []byte("X-Up: 1\n"), Body: []byte(`{"sent":1}`)}}}
	attempts := b.Attempts
	h.Record(c, b)
	h.Flush()
	<-feed
	if b.Request.Body != nil || b.Response.Body != nil || b.Attempts != nil || attempts[0].Request.Body != nil || attempts[0].Request.HeaderBlock != nil {
		t.Errorf("the writer still holds the bodies after the commit: %+v, attempts %+v", *b, attempts)
	}
	got, err := h.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Request.Body) != reqBody(1) || string(got.Response.Body) != `{"id":"r1"}` || len(got.Attempts) != 1 || got.Attempts[0].Wire == nil || got.Attempts[0].Wire.Request == nil || string(got.Attempts[0].Wire.Request.Body) != `{"sent":1}` {
		t.Errorf("stored call lost its bodies: request %q response %q attempts %+v", got.Request.Body, got.Response.Body, got.Attempts)
	}
}
