package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/s2"
)

// Bodies are the payloads of a call as the proxy captured them. History.Record
// takes the slices as they are (no copy on the request path) and owns them after.
type Bodies struct {
	Request         RawMessage
	Response        RawMessage // for streams, the reassembled message
	Events          []byte     // a stream's raw events as the client got them
	EventsTruncated bool
	// Attempts are the attempts' wire records, by Call.Attempts index (issue
	// 16); an attempt never sent has a zero value. A body that shares the
	// client's bytes (or equals them) is stored as a reference, not a copy.
	Attempts []AttemptBodies
}

// AttemptBodies is one attempt as it went over the wire: the request as sent
// upstream and the upstream's response (for a stream, its raw events).
type AttemptBodies struct {
	Request, Response RawMessage
}

// RawMessage is one side of a call before it is stored.
type RawMessage struct {
	Headers []Header
	// HeaderBlock is the alternative to Headers the proxy hands over: headers as
	// "Name: value\n" lines, parsed by the writer so the request path does not.
	HeaderBlock []byte
	Body        []byte
	Truncated   bool // already cut by the proxy's capture cap
}

// eachHeaderLine calls fn with the name and value of each "Name: value\n" line
// of a header block, as slices of it (no copy).
func eachHeaderLine(b []byte, fn func(name, value []byte)) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		name, value, _ := bytes.Cut(line, []byte(": "))
		fn(name, value)
	}
}

// unterminated is 1 when b's last line has no newline (eachHeaderLine still
// yields it), else 0.
func unterminated(b []byte) int {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return 1
	}
	return 0
}

func (b *Bodies) size() int64 {
	if b == nil {
		return 0
	}
	n := len(b.Request.Body) + len(b.Response.Body) + len(b.Events)
	for i := range b.Attempts {
		a := &b.Attempts[i]
		if !sharesStart(a.Request.Body, b.Request.Body) {
			n += len(a.Request.Body)
		}
		if !sharesStart(a.Response.Body, b.Response.Body) && !sharesStart(a.Response.Body, b.Events) {
			n += len(a.Response.Body)
		}
	}
	return int64(n)
}

// sharesStart reports whether a starts where b does in memory (a is b or a
// prefix of it): such a body costs the queue nothing more.
func sharesStart(a, b []byte) bool {
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}

// storedBodies is a call's stored headers and bodies.
type storedBodies struct {
	Request         *Message
	Response        *Message
	Events          string
	EventsTruncated bool
	Wires           []indexedWire
}

// indexedWire is an attempt's wire record and the attempt's index in the call.
type indexedWire struct {
	index int
	wire  *Wire
}

// A bodies value is a flag byte, then the payload, compressed when the flag says so.
// The payload is binary, not JSON: bodies are mostly JSON text that JSON would
// have to escape, and the writer must keep up with 5,000 calls/s (issue 3).
//
//	payload  = message(request) message(response) bytes(events) bool(events truncated)
//	           [uvarint(n) n×wire]
//	message  = 0 (absent) | 1 bool(truncated) headers bytes(body)
//	headers  = uvarint(n) n×(bytes(name) bytes(value))
//	wire     = uvarint(attempt index) side(request) side(response)
//	side     = 0 (absent) | 1 bool(truncated) headers bytes(body)
//	         | ref bool(truncated) headers uvarint(len)
//	ref      = 2 | 3 | 4: the body is the first len bytes of the call's own
//	           request body, response body or events (stored once)
//	bytes    = uvarint(len) len bytes
//	bool     = 0 | 1
//
// The wires (issue 16) are optional at the end: values written before them
// decode with none, and older readers ignore them.
const (
	bodyPlain byte = 0
	bodyGzip  byte = 1 // written before issue 12; still read
	bodyS2    byte = 2 // S2 block format (github.com/klauspost/compress/s2)
)

// The kinds of a wire side.
const (
	sideAbsent byte = iota
	sideInline
	sideRefRequest
	sideRefResponse
	sideRefEvents
)

// compressAbove is the payload size past which bodies are compressed: a
// stream's events shrink 5 to 30 times, for about a microsecond per 10 KB with
// S2 (gzip took 30), and every byte not written is one the writer need not copy
// and the size budget keeps for older calls. Small chat calls gain little.
const compressAbove = 4 << 10

// s2Buffers hold compressed payloads on their way into the batch buffer.
var s2Buffers = sync.Pool{New: func() any { return new([]byte) }}

// capBytes cuts b at limit and says whether it did.
func capBytes(b []byte, limit int) ([]byte, bool) {
	if len(b) <= limit {
		return b, false
	}
	return b[:limit], true
}

// preparedMessage is one side of a call with its body redacted and capped;
// its headers are redacted as they are appended (appendHeaders).
type preparedMessage struct {
	present   bool
	headers   []Header
	block     []byte // the headers as the proxy captured them, when headers is nil
	body      []byte
	truncated bool
}

// prepare redacts and caps the body of one side of a call.
func prepare(m RawMessage, r *redactor, limit int) preparedMessage {
	if m.Body == nil && m.Headers == nil && m.HeaderBlock == nil {
		return preparedMessage{}
	}
	body := r.bytes(m.Body)
	body, cut := capBytes(body, limit)
	if cut || m.Truncated {
		body = r.tail(body)
	}
	p := preparedMessage{present: true, headers: m.Headers, body: body, truncated: cut || m.Truncated}
	if m.Headers == nil {
		p.block = m.HeaderBlock
	}
	return p
}

// prepareShared is prepare for a side of a wire record; a body that is the
// client's own (same memory, same length) takes the client's prepared body
// instead of being redacted and capped again.
func prepareShared(m, client RawMessage, prepared preparedMessage, r *redactor, limit int) preparedMessage {
	if !sharesStart(m.Body, client.Body) || len(m.Body) != len(client.Body) {
		return prepare(m, r, limit)
	}
	body := m.Body
	m.Body = nil
	p := prepare(m, r, limit)
	if !p.present && body != nil {
		p.present = true
	}
	p.body, p.truncated = prepared.body, prepared.truncated || m.Truncated
	return p
}

func appendBytes[T string | []byte](dst []byte, b T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func appendMessage(dst []byte, m preparedMessage, r *redactor) []byte {
	if !m.present {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = appendBool(dst, m.truncated)
	dst = appendHeaders(dst, m, r)
	return appendBytes(dst, m.body)
}

// appendHeaders appends a side's headers, redacting them: the header block is
// read in place (no header is copied to a string on its way to disk).
func appendHeaders(dst []byte, m preparedMessage, r *redactor) []byte {
	if m.headers == nil && m.block != nil {
		// One search of the whole block for the secrets, instead of one per
		// header value: most blocks hold none.
		secrets := r.contains(m.block)
		dst = binary.AppendUvarint(dst, uint64(bytes.Count(m.block, []byte{'\n'})+unterminated(m.block)))
		eachHeaderLine(m.block, func(name, value []byte) {
			dst = appendBytes(dst, name)
			switch {
			case r.sensitive(name):
				dst = appendBytes(dst, Redacted)
			case secrets:
				dst = appendBytes(dst, r.bytes(value))
			default:
				dst = appendBytes(dst, value)
			}
		})
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.headers)))
	for _, h := range m.headers {
		dst = appendBytes(dst, h.Name)
		if sensitiveHeader(h.Name) {
			dst = appendBytes(dst, Redacted)
		} else {
			dst = appendBytes(dst, r.string(h.Value))
		}
	}
	return dst
}

// appendSide appends one side of an attempt's wire record. Its body becomes a
// reference when it is a prefix of the client's body of one of kinds (refs
// holds the call's request, response and events as stored): a same-format
// pass-through shares the client's memory, so the comparison usually ends at
// the pointer check.
func appendSide(dst []byte, m preparedMessage, r *redactor, refs *[3][]byte, kinds ...byte) []byte {
	if !m.present {
		return append(dst, sideAbsent)
	}
	for _, kind := range kinds {
		if len(m.body) > 0 && bytes.HasPrefix(refs[kind-sideRefRequest], m.body) {
			dst = append(dst, kind)
			dst = appendBool(dst, m.truncated)
			dst = appendHeaders(dst, m, r)
			return binary.AppendUvarint(dst, uint64(len(m.body)))
		}
	}
	dst = append(dst, sideInline)
	dst = appendBool(dst, m.truncated)
	dst = appendHeaders(dst, m, r)
	return appendBytes(dst, m.body)
}

// encodeBodies redacts, caps and encodes a call's bodies for the bodies bucket.
func encodeBodies(b *Bodies, r *redactor, limit int) ([]byte, error) {
	return appendBodies(nil, b, r, limit)
}

// appendBodies is encodeBodies appending to dst (the writer's batch buffer).
// The value is dst[len(dst):] of the result.
func appendBodies(dst []byte, b *Bodies, r *redactor, limit int) ([]byte, error) {
	req, resp := prepare(b.Request, r, limit), prepare(b.Response, r, limit)
	events := r.bytes(b.Events)
	events, cut := capBytes(events, limit)
	if cut || b.EventsTruncated {
		events = r.tail(events)
	}
	var one [2]preparedMessage // a call of one attempt, the usual: no allocation
	var wires []preparedMessage
	if len(b.Attempts) <= 1 {
		wires = one[:2*len(b.Attempts)]
	} else {
		wires = make([]preparedMessage, 2*len(b.Attempts))
	}
	for i := range b.Attempts {
		a := &b.Attempts[i]
		wires[2*i] = prepareShared(a.Request, b.Request, req, r, limit)
		wires[2*i+1] = prepareShared(a.Response, b.Response, resp, r, limit)
	}
	start := len(dst)
	out := append(dst, bodyPlain)
	out = appendMessage(out, req, r)
	out = appendMessage(out, resp, r)
	out = appendBytes(out, events)
	out = appendBool(out, cut || b.EventsTruncated)
	out = appendWires(out, wires, r, req.body, resp.body, events)
	if len(out)-start <= compressAbove {
		return out, nil
	}
	zbuf := s2Buffers.Get().(*[]byte)
	defer s2Buffers.Put(zbuf)
	z := s2.Encode((*zbuf)[:cap(*zbuf)], out[start+1:])
	*zbuf = z
	if len(z) >= len(out)-start-1 {
		return out, nil // incompressible: kept plain
	}
	out = append(out[:start], bodyS2)
	return append(out, z...), nil
}

// appendWires appends the attempts' wire records (two sides each) that hold
// anything; nothing at all when none does, as before issue 16.
func appendWires(dst []byte, wires []preparedMessage, r *redactor, req, resp, events []byte) []byte {
	n := 0
	for i := 0; i < len(wires); i += 2 {
		if wires[i].present || wires[i+1].present {
			n++
		}
	}
	if n == 0 {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	refs := [3][]byte{req, resp, events}
	for i := 0; i < len(wires); i += 2 {
		if !wires[i].present && !wires[i+1].present {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(i/2))
		dst = appendSide(dst, wires[i], r, &refs, sideRefRequest)
		dst = appendSide(dst, wires[i+1], r, &refs, sideRefResponse, sideRefEvents)
	}
	return dst
}

// bodiesPayload returns the payload of a bodies value, decompressed.
// maxDecodedBodies bounds what one stored bodies value may decode to: far
// above any value written (each body is capped, 1 MiB by default), far below
// what a corrupt length could make the reader allocate.
const maxDecodedBodies = 256 << 20

func bodiesPayload(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, errors.New("decode bodies: empty value")
	}
	switch v[0] {
	case bodyPlain:
		return v[1:], nil
	case bodyS2:
		// A corrupt header may declare any size: s2.Decode would allocate it.
		if n, err := s2.DecodedLen(v[1:]); err != nil || n > maxDecodedBodies {
			return nil, fmt.Errorf("%w: its S2 block declares %d bytes", errCorrupt, n)
		}
		p, err := s2.Decode(nil, v[1:])
		if err != nil {
			return nil, fmt.Errorf("decode bodies: %w", err)
		}
		return p, nil
	case bodyGzip:
		zr, err := gzip.NewReader(bytes.NewReader(v[1:]))
		if err != nil {
			return nil, fmt.Errorf("decode bodies: %w", err)
		}
		p, err := io.ReadAll(io.LimitReader(zr, maxDecodedBodies+1))
		if err != nil {
			return nil, fmt.Errorf("decode bodies: %w", err)
		}
		if len(p) > maxDecodedBodies {
			return nil, fmt.Errorf("%w: its gzip stream is over %d bytes", errCorrupt, maxDecodedBodies)
		}
		return p, nil
	}
	return nil, fmt.Errorf("decode bodies: unknown encoding %d", v[0])
}

// payloadReader reads the binary payload; the first error sticks.
type payloadReader struct {
	b   []byte
	err error
}

var errCorrupt = errors.New("decode bodies: corrupt value")

func (r *payloadReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *payloadReader) bytes() []byte {
	if r.err != nil {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || uint64(len(r.b)-k) < n {
		r.err = errCorrupt
		return nil
	}
	out := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return out
}

func (r *payloadReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *payloadReader) message() *Message {
	if r.byte() != 1 {
		return nil
	}
	m := &Message{Truncated: r.byte() == 1}
	m.Headers = r.headers()
	m.Body = string(r.bytes())
	return m
}

func (r *payloadReader) headers() []Header {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
	}
	if r.err != nil {
		return nil
	}
	hs := make([]Header, 0, n)
	for range n {
		name, value := r.bytes(), r.bytes()
		hs = append(hs, Header{Name: string(name), Value: string(value)})
	}
	return hs
}

// side reads one side of a wire record; refs are the call's request body,
// response body and events, which a reference points into.
func (r *payloadReader) side(refs *[3]string) (m *Message, sameAsClient bool) {
	kind := r.byte()
	if kind == sideAbsent || r.err != nil {
		return nil, false
	}
	m = &Message{Truncated: r.byte() == 1}
	m.Headers = r.headers()
	if kind == sideInline {
		m.Body = string(r.bytes())
		return m, false
	}
	i, n := int(kind)-int(sideRefRequest), r.uvarint()
	if i < 0 || i >= len(refs) || n > uint64(len(refs[i])) {
		r.err = errCorrupt
		return nil, false
	}
	m.Body = refs[i][:n]
	return m, true
}

func decodeBodies(v []byte) (storedBodies, error) {
	p, err := bodiesPayload(v)
	if err != nil {
		return storedBodies{}, err
	}
	r := &payloadReader{b: p}
	sb := storedBodies{Request: r.message(), Response: r.message()}
	sb.Events = string(r.bytes())
	sb.EventsTruncated = r.byte() == 1
	if r.err == nil && len(r.b) > 0 {
		sb.Wires = r.wires(sb)
	}
	if r.err != nil {
		return storedBodies{}, r.err
	}
	return sb, nil
}

// wires reads the attempts' wire records that follow the call's own bodies.
func (r *payloadReader) wires(sb storedBodies) []indexedWire {
	refs := [3]string{2: sb.Events}
	if sb.Request != nil {
		refs[0] = sb.Request.Body
	}
	if sb.Response != nil {
		refs[1] = sb.Response.Body
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return nil
	}
	out := make([]indexedWire, 0, n)
	for range n {
		iw := indexedWire{index: int(r.uvarint()), wire: &Wire{}}
		iw.wire.Request, iw.wire.RequestSameAsClient = r.side(&refs)
		iw.wire.Response, iw.wire.ResponseSameAsClient = r.side(&refs)
		if r.err != nil {
			return nil
		}
		out = append(out, iw)
	}
	return out
}

// encodeSummary is the summary's JSON (appendSummary: no bodies).
func encodeSummary(c *Call) ([]byte, error) {
	return appendSummary(make([]byte, 0, 512), c), nil
}

func decodeSummary(v []byte) (Call, error) {
	var c Call
	if err := json.Unmarshal(v, &c); err != nil {
		return c, fmt.Errorf("decode call: %w", err)
	}
	return c, nil
}
