package store

import (
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// storedValue returns the raw bodies value of call id.
func storedValue(t *testing.T, h *History, id string) []byte {
	t.Helper()
	key, ok := parseKey(id)
	if !ok {
		t.Fatalf("bad id %q", id)
	}
	var v []byte
	if err := h.view(func(tx *bolt.Tx) error {
		v = append([]byte(nil), tx.Bucket(bucketBodies).Get(key)...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// A same-format pass-through shares the client's bodies: the wire record
// stores references, Get gives the bodies back with the same-as-client flags,
// and the stored value is no bigger than without the wire record but for the
// headers.
func TestWireSameFormatStoredOnce(t *testing.T) {
	h := openTest(t, Options{})
	req, resp := []byte(reqBody(1)+strings.Repeat(" ", 2000)), []byte(padBody(3000))
	plain := callAt(time.Now(), OutcomeOK, "openai")
	h.Record(plain, &Bodies{Request: RawMessage{Body: req}, Response: RawMessage{Body: resp}})
	c := callAt(time.Now(), OutcomeOK, "openai")
	c.Attempts[0].Method, c.Attempts[0].KeySource, c.Attempts[0].KeyMask = "POST", "keychain", "sk-…abcd"
	h.Record(c, &Bodies{
		Request:  RawMessage{Body: req},
		Response: RawMessage{Body: resp},
		Attempts: []AttemptBodies{{
			Request:  RawMessage{HeaderBlock: []byte("Content-Type: application/json\n"), Body: req},
			Response: RawMessage{HeaderBlock: []byte("X-Request-Id: req_1\n"), Body: resp},
		}},
	})
	h.Flush()
	got, err := h.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := got.Attempts[0]
	w := a.Wire
	if w == nil || w.Request == nil || w.Response == nil {
		t.Fatalf("attempt has no wire record: %+v", a)
	}
	if !w.RequestSameAsClient || !w.ResponseSameAsClient || w.Request.Body != string(req) || w.Response.Body != string(resp) {
		t.Errorf("wire = same %v/%v, request %d bytes, response %d bytes; want both same as the client's",
			w.RequestSameAsClient, w.ResponseSameAsClient, len(w.Request.Body), len(w.Response.Body))
	}
	if len(w.Response.Headers) != 1 || w.Response.Headers[0].Value != "req_1" {
		t.Errorf("wire response headers = %+v", w.Response.Headers)
	}
	if a.Method != "POST" || a.KeySource != "keychain" || a.KeyMask != "sk-…abcd" {
		t.Errorf("attempt facts = %q %q %q", a.Method, a.KeySource, a.KeyMask)
	}
	with, without := len(storedValue(t, h, c.ID)), len(storedValue(t, h, plain.ID))
	if with > without+100 {
		t.Errorf("bodies value with a deduplicated wire record is %d bytes, %d without: the bodies were stored twice", with, without)
	}
}

// A translated call's bodies differ from the client's and are stored as sent;
// a stream's upstream events that are a prefix of the client's events (a
// same-format stream Gatehouse ended with an error event of its own) are a
// reference.
func TestWireTranslatedAndStream(t *testing.T) {
	h := openTest(t, Options{})
	c := callAt(time.Now(), OutcomeOK, "anthropic")
	c.Attempts = append(c.Attempts, Attempt{Provider: "anthropic", ErrorClass: "circuit_open"})
	events := []byte("event: message_start\ndata: {}\n\nevent: error\ndata: {\"gatehouse\":1}\n\n")
	h.Record(c, &Bodies{
		Request: RawMessage{Body: []byte(`{"model":"gpt","messages":[]}`)},
		Events:  events,
		Attempts: []AttemptBodies{{
			Request:  RawMessage{Body: []byte(`{"model":"claude","max_tokens":1024,"messages":[]}`)},
			Response: RawMessage{Body: events[:len("event: message_start\ndata: {}\n\n")]},
		}, {}},
	})
	h.Flush()
	got, err := h.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	w := got.Attempts[0].Wire
	if w == nil || w.RequestSameAsClient || w.Request.Body != `{"model":"claude","max_tokens":1024,"messages":[]}` {
		t.Fatalf("translated request = %+v", w)
	}
	if !w.ResponseSameAsClient || w.Response.Body != "event: message_start\ndata: {}\n\n" {
		t.Errorf("stream response = same %v, %q; want the upstream's events, by reference", w.ResponseSameAsClient, w.Response.Body)
	}
	if got.Attempts[1].Wire != nil {
		t.Errorf("a skipped attempt has a wire record: %+v", got.Attempts[1].Wire)
	}
	if got.Tries() != 1 {
		t.Errorf("Tries() = %d with one sent and one skipped attempt, want 1", got.Tries())
	}
}

// Keys never reach the file through a wire record: credential headers are
// blanked, literal secrets are replaced in headers and bodies, the injected
// key's query parameter is redacted in the attempt's URL.
func TestWireRedacted(t *testing.T) {
	const key = "sk-upstream-0123456789abcdef"
	dir := t.TempDir()
	h, err := OpenHistory(dir, Options{Secrets: func() []string { return []string{key} }})
	if err != nil {
		t.Fatal(err)
	}
	c := callAt(time.Now(), OutcomeError, "gemini")
	c.Attempts[0].URL = "https://x/v1beta/models/m:generateContent?key=" + key
	h.Record(c, &Bodies{
		Request: RawMessage{Body: []byte(`{}`)},
		Attempts: []AttemptBodies{{
			Request:  RawMessage{HeaderBlock: []byte("Authorization: Bearer " + key + "\nX-Goog-Api-Key: " + key + "\nX-Trace: " + key + "\n"), Body: []byte(`{"k":"` + key + `"}`)},
			Response: RawMessage{Body: []byte(`{"error":"bad key ` + key + `"}`)},
		}},
	})
	h.Flush()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(h.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), "0123456789abcdef") {
		t.Fatal("the provider key is in the history file")
	}
	h2, err := OpenHistory(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	got, err := h2.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	w := got.Attempts[0].Wire
	for _, hd := range w.Request.Headers {
		if hd.Value != Redacted {
			t.Errorf("header %s = %q, want %s", hd.Name, hd.Value, Redacted)
		}
	}
	if !strings.Contains(w.Response.Body, Redacted) || !strings.Contains(got.Attempts[0].URL, "key="+Redacted) {
		t.Errorf("response %q, URL %q: want the key redacted", w.Response.Body, got.Attempts[0].URL)
	}
}

// Values written before wire records existed (the call's own bodies only)
// still decode, with none.
func TestBodiesWithoutWiresDecode(t *testing.T) {
	// plain; request: present, not truncated, 0 headers, body "{}"; response
	// absent; events ""; events not truncated.
	old := []byte{bodyPlain, 1, 0, 0, 2, '{', '}', 0, 0, 0}
	sb, err := decodeBodies(old)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Request == nil || sb.Request.Body != "{}" || sb.Response != nil || sb.Wires != nil {
		t.Errorf("old value decoded as %+v", sb)
	}
	v, err := encodeBodies(&Bodies{Request: RawMessage{Body: []byte("{}")}}, newRedactor(nil), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if string(v) != string(old) {
		t.Errorf("a call without wire records encodes as %v, want the old form %v", v, old)
	}
	// A reference past the client's body is corrupt, not a panic.
	bad := append(append([]byte{}, old...), 1, 0, sideRefRequest, 0, 0, 99, 0)
	if _, err := decodeBodies(bad); err == nil {
		t.Error("a reference past the client's body decoded")
	}
}
