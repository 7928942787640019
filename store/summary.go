package store

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendSummary appends the JSON of c's summary (c without bodies), byte for
// byte what encoding/json makes of it (TestSummaryMatchesEncodingJSON), without
// reflection: the writer encodes thousands of summaries a second.
func appendSummary(b []byte, c *Call) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, c.ID)
	b = append(b, `,"time":`...)
	b = appendJSONTime(b, c.Time)
	if c.Method != "" {
		b = append(b, `,"method":`...)
		b = appendJSONString(b, c.Method)
	}
	b = append(b, `,"path":`...)
	b = appendJSONString(b, c.Path)
	if c.ClientUA != "" {
		b = append(b, `,"client_ua":`...)
		b = appendJSONString(b, c.ClientUA)
	}
	if c.Client != "" {
		b = append(b, `,"client":`...)
		b = appendJSONString(b, c.Client)
	}
	for _, f := range [...]struct{ name, v string }{
		{`,"inbound_format":`, c.InboundFormat}, {`,"model":`, c.Model}, {`,"provider":`, c.Provider},
		{`,"upstream_model":`, c.UpstreamModel},
	} {
		b = append(b, f.name...)
		b = appendJSONString(b, f.v)
	}
	b = append(b, `,"stream":`...)
	b = strconv.AppendBool(b, c.Stream)
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, c.Outcome)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(c.Status), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, c.DurationMS, 10)
	b = append(b, `,"ttfb_ms":`...)
	b = strconv.AppendInt(b, c.TTFBMS, 10)
	b = append(b, `,"attempts":`...)
	if c.Attempts == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.Attempts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAttempt(b, &c.Attempts[i])
		}
		b = append(b, ']')
	}
	b = appendTokens(b, `,"input_tokens":`, c.InputTokens, false)
	b = appendTokens(b, `,"output_tokens":`, c.OutputTokens, false)
	b = appendTokens(b, `,"cache_read_tokens":`, c.CacheReadTokens, true)
	b = appendTokens(b, `,"cache_write_tokens":`, c.CacheWriteTokens, true)
	b = appendTokens(b, `,"reasoning_tokens":`, c.ReasoningTokens, true)
	if c.CostUSD != nil {
		b = appendJSONFloat(append(b, `,"cost_usd":`...), *c.CostUSD)
	}
	b = append(b, `,"error":`...)
	b = appendJSONString(b, c.Error)
	if c.BodiesDropped {
		b = append(b, `,"bodies_dropped":true`...)
	}
	return append(b, '}')
}

func appendAttempt(b []byte, a *Attempt) []byte {
	b = append(b, `{"provider":`...)
	b = appendJSONString(b, a.Provider)
	b = append(b, `,"model":`...)
	b = appendJSONString(b, a.Model)
	if a.URL != "" {
		b = append(b, `,"url":`...)
		b = appendJSONString(b, a.URL)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, a.Error)
	b = append(b, `,"error_class":`...)
	b = appendJSONString(b, a.ErrorClass)
	if !a.Start.IsZero() {
		b = append(b, `,"start":`...)
		b = appendJSONTime(b, a.Start)
	}
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, a.DurationMS, 10)
	b = append(b, `,"delay_ms":`...)
	b = strconv.AppendInt(b, a.DelayMS, 10)
	for _, f := range [...]struct{ name, v string }{
		{`,"method":`, a.Method}, {`,"key_source":`, a.KeySource}, {`,"key_mask":`, a.KeyMask},
	} {
		if f.v != "" {
			b = append(b, f.name...)
			b = appendJSONString(b, f.v)
		}
	}
	if a.ConnectMS != 0 {
		b = append(b, `,"connect_ms":`...)
		b = strconv.AppendInt(b, a.ConnectMS, 10)
	}
	if a.FirstByteMS != 0 {
		b = append(b, `,"first_byte_ms":`...)
		b = strconv.AppendInt(b, a.FirstByteMS, 10)
	}
	if a.CircuitOpened {
		b = append(b, `,"circuit_opened":true`...)
	}
	if !a.CircuitUntil.IsZero() {
		b = append(b, `,"circuit_until":`...)
		b = appendJSONTime(b, a.CircuitUntil)
	}
	return append(b, '}')
}

func appendTokens(b []byte, name string, n *int64, omitEmpty bool) []byte {
	switch {
	case n == nil && omitEmpty:
		return b
	case n == nil:
		return append(append(b, name...), "null"...)
	}
	return strconv.AppendInt(append(b, name...), *n, 10)
}

// appendJSONFloat formats f as encoding/json does (its floatEncoder).
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...) // encoding/json refuses these; the proxy never makes them
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does, HTML escaping included.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
