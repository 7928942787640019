package store

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Bodies are the payloads of a call as the proxy captured them. History.Record
// takes the slices as they are (no copy on the request path) and owns them after.
type Bodies struct {
	Request         RawMessage
	Response        RawMessage // for streams, the reassembled message
	Events          []byte     // a stream's raw events as the client got them
	EventsTruncated bool
}

// RawMessage is one side of a call before it is stored.
type RawMessage struct {
	Headers   []Header
	Body      []byte
	Truncated bool // already cut by the proxy's capture cap
}

func (b *Bodies) size() int64 {
	if b == nil {
		return 0
	}
	return int64(len(b.Request.Body) + len(b.Response.Body) + len(b.Events))
}

// storedBodies is the JSON form of the bodies bucket's values.
type storedBodies struct {
	Request         *Message `json:"request,omitempty"`
	Response        *Message `json:"response,omitempty"`
	Events          string   `json:"events,omitempty"`
	EventsTruncated bool     `json:"events_truncated,omitempty"`
}

// Body value flags: the first byte of a bodies value.
const (
	bodyPlain byte = 0
	bodyGzip  byte = 1
)

// compressAbove is the encoded size past which bodies are gzipped: small ones
// gain little and would cost the writer time at 5,000 calls/s.
const compressAbove = 8 << 10

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// capBytes cuts b at limit and says whether it did.
func capBytes(b []byte, limit int) ([]byte, bool) {
	if len(b) <= limit {
		return b, false
	}
	return b[:limit], true
}

// prepareMessage redacts and caps one side of a call.
func prepareMessage(m RawMessage, r *redactor, limit int) *Message {
	if m.Body == nil && m.Headers == nil {
		return nil
	}
	r.headers(m.Headers)
	body := r.bytes(m.Body)
	body, cut := capBytes(body, limit)
	if cut || m.Truncated {
		body = r.tail(body)
	}
	hs := m.Headers
	if hs == nil {
		hs = []Header{}
	}
	return &Message{Headers: hs, Body: string(body), Truncated: cut || m.Truncated}
}

// encodeBodies redacts, caps and encodes a call's bodies for the bodies bucket.
func encodeBodies(b *Bodies, r *redactor, limit int) ([]byte, error) {
	sb := storedBodies{
		Request:  prepareMessage(b.Request, r, limit),
		Response: prepareMessage(b.Response, r, limit),
	}
	events := r.bytes(b.Events)
	events, cut := capBytes(events, limit)
	if cut || b.EventsTruncated {
		events = r.tail(events)
	}
	sb.Events, sb.EventsTruncated = string(events), cut || b.EventsTruncated
	js, err := json.Marshal(&sb)
	if err != nil {
		return nil, fmt.Errorf("encode bodies: %w", err)
	}
	if len(js) <= compressAbove {
		return append([]byte{bodyPlain}, js...), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(js)/3 + 64)
	buf.WriteByte(bodyGzip)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(js); err != nil {
		return nil, fmt.Errorf("compress bodies: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress bodies: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeBodiesJSON returns the JSON of a bodies value, decompressed.
func decodeBodiesJSON(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("decode bodies: empty value")
	}
	switch v[0] {
	case bodyPlain:
		return v[1:], nil
	case bodyGzip:
		zr, err := gzip.NewReader(bytes.NewReader(v[1:]))
		if err != nil {
			return nil, fmt.Errorf("decode bodies: %w", err)
		}
		js, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("decode bodies: %w", err)
		}
		return js, nil
	}
	return nil, fmt.Errorf("decode bodies: unknown encoding %d", v[0])
}

func decodeBodies(v []byte) (storedBodies, error) {
	var sb storedBodies
	js, err := decodeBodiesJSON(v)
	if err != nil {
		return sb, err
	}
	if err := json.Unmarshal(js, &sb); err != nil {
		return sb, fmt.Errorf("decode bodies: %w", err)
	}
	return sb, nil
}

func encodeSummary(c *Call) ([]byte, error) {
	s := *c
	s.Request, s.Response, s.Events, s.EventsTruncated = nil, nil, "", false
	b, err := json.Marshal(&s)
	if err != nil {
		return nil, fmt.Errorf("encode call %s: %w", c.ID, err)
	}
	return b, nil
}

func decodeSummary(v []byte) (Call, error) {
	var c Call
	if err := json.Unmarshal(v, &c); err != nil {
		return c, fmt.Errorf("decode call: %w", err)
	}
	return c, nil
}
