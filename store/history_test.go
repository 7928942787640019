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
