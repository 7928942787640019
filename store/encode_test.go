package store

import (
	"bytes"
	"compress/gzip"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestBodiesRoundTrip(t *testing.T) {
	r := newRedactor(nil)
	for _, tt := range []struct {
		name string
		in   *Bodies
		want storedBodies
	}{
		{"empty", &Bodies{}, storedBodies{}},
		{"request only", &Bodies{Request: RawMessage{Body: []byte(`{"a":1}`)}},
			storedBodies{Request: &Message{Headers: nil, Body: `{"a":1}`}}},
		{"headers and stream", &Bodies{
			Request:  RawMessage{Headers: []Header{{"Content-Type", "application/json"}, {"X-Empty", ""}}, Body: []byte("{}"), Truncated: true},
			Response: RawMessage{Headers: []Header{{"Content-Type", "text/event-stream"}}, Body: []byte(`{"text":"héllo \"q\" \n"}`)},
			Events:   []byte("data: {}\n\ndata: [DONE]\n\n"), EventsTruncated: true,
		}, storedBodies{
			Request:  &Message{Headers: []Header{{"Content-Type", "application/json"}, {"X-Empty", ""}}, Body: "{}", Truncated: true},
			Response: &Message{Headers: []Header{{"Content-Type", "text/event-stream"}}, Body: `{"text":"héllo \"q\" \n"}`},
			Events:   "data: {}\n\ndata: [DONE]\n\n", EventsTruncated: true,
		}},
		{"large, compressed", &Bodies{Response: RawMessage{Body: []byte(strings.Repeat("abc", 20000))}},
			storedBodies{Response: &Message{Body: strings.Repeat("abc", 20000)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := encodeBodies(tt.in, r, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeBodies(v)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []*Message{got.Request, got.Response} {
				if m != nil && len(m.Headers) == 0 {
					m.Headers = nil
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("round trip of %s: got %+v, want %+v", tt.name, got, tt.want)
			}
		})
	}
}

// FuzzDecodeBodies: no stored value, however corrupt, makes decoding panic, and
// every encoded value decodes.
func FuzzDecodeBodies(f *testing.F) {
	r := newRedactor(nil)
	for _, b := range []*Bodies{
		{},
		{Request: RawMessage{Headers: []Header{{"A", "b"}}, Body: []byte("{}")}, Events: []byte("data: x\n\n")},
		{Response: RawMessage{Body: []byte(strings.Repeat("z", 40000))}},
		{Request: RawMessage{Body: []byte("{}")}, Events: []byte("data: x\n\n"), Attempts: []AttemptBodies{
			{Request: RawMessage{Body: []byte("{}")}, Response: RawMessage{Headers: []Header{{"A", "b"}}, Body: []byte("data: x")}},
			{}, {Request: RawMessage{Body: []byte(`{"other":1}`)}},
		}},
	} {
		v, _ := encodeBodies(b, r, 1<<20)
		f.Add(v)
	}
	f.Add([]byte{0, 1, 0, 255, 255, 255, 255, 15})
	f.Fuzz(func(t *testing.T, v []byte) {
		sb, err := decodeBodies(v)
		if err != nil {
			return
		}
		in := &Bodies{Events: []byte(sb.Events), EventsTruncated: sb.EventsTruncated}
		if sb.Request != nil {
			in.Request = RawMessage{Headers: append([]Header{}, sb.Request.Headers...), Body: []byte(sb.Request.Body), Truncated: sb.Request.Truncated}
		}
		if sb.Response != nil {
			in.Response = RawMessage{Headers: append([]Header{}, sb.Response.Headers...), Body: []byte(sb.Response.Body), Truncated: sb.Response.Truncated}
		}
		v2, err := encodeBodies(in, r, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeBodies(v2); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
	})
}

func TestHeaderBlockParsedAndRedacted(t *testing.T) {
	r := newRedactor([]string{"sk-secret-value-123"})
	m := prepareMessage(RawMessage{
		HeaderBlock: []byte("Content-Type: application/json\nAuthorization: Bearer sk-secret-value-123\nX-Note: has sk-secret-value-123 inside\n"),
		Body:        []byte("{}"),
	}, r, 1<<20)
	want := []Header{{"Content-Type", "application/json"}, {"Authorization", Redacted}, {"X-Note", "has " + Redacted + " inside"}}
	if !reflect.DeepEqual(m.Headers, want) {
		t.Errorf("headers from block = %+v, want %+v", m.Headers, want)
	}
}

// TestGzipBodiesStillRead: files written before S2 hold gzipped bodies.
func TestGzipBodiesStillRead(t *testing.T) {
	plain, err := encodeBodies(&Bodies{Response: RawMessage{Body: []byte(`{"ok":true}`)}}, newRedactor(nil), 1<<20)
	if err != nil || plain[0] != bodyPlain {
		t.Fatalf("small body: flag %d, err %v; want plain", plain[0], err)
	}
	var buf bytes.Buffer
	buf.WriteByte(bodyGzip)
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(plain[1:])
	_ = zw.Close()
	got, err := decodeBodies(buf.Bytes())
	if err != nil || got.Response == nil || got.Response.Body != `{"ok":true}` {
		t.Errorf("gzipped value decodes to %+v, %v; want the response body", got.Response, err)
	}
}

// prepareMessage is one side of a call as Get returns it once written.
func prepareMessage(m RawMessage, r *redactor, limit int) *Message {
	v, err := encodeBodies(&Bodies{Request: m}, r, limit)
	if err != nil {
		panic(err)
	}
	sb, err := decodeBodies(v)
	if err != nil {
		panic(err)
	}
	return sb.Request
}

// A corrupt value whose S2 header declares 2 GB (found by FuzzDecodeBodies)
// is refused before anything that size is allocated: decoding it allocated
// the 2 GB, and the fuzzer's worker died of it.
func TestDecodeBodiesRefusesHugeDeclaredSize(t *testing.T) {
	v := []byte("\x02\x86\xf1\xfe\xed\a\x86\x01")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := decodeBodies(v)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a value declaring 2 GB decoded")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("decoding allocated %d MB before refusing", grew>>20)
	}
}
