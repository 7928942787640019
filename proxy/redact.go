package proxy

import (
	"bytes"
	"strings"
)

// redacted replaces a client's key in the record.
var redacted = []byte("[REDACTED]")

// minSecretLen is the shortest client key treated as a secret: shorter ones
// (and the documented placeholder "gatehouse") are not keys, and replacing them
// would garble the record.
const minSecretLen = 8

// redactClientKeys removes every key the client sent from the record: headers,
// bodies, events and error text, even where an upstream echoed it back (issue
// 19.4). Record bodies may share memory with the response, so replacing
// always copies.
func (c *call) redactClientKeys() {
	for _, cr := range c.creds {
		if len(cr.key) < minSecretLen || cr.key == "gatehouse" {
			continue
		}
		k := []byte(cr.key)
		rec := c.rec
		for _, b := range []*[]byte{&rec.Request.HeaderBlock, &rec.Request.Body, &rec.Response.HeaderBlock, &rec.Response.Body, &rec.Events} {
			if bytes.Contains(*b, k) {
				*b = bytes.ReplaceAll(*b, k, redacted)
			}
		}
		rec.Error = redactString(rec.Error, cr.key)
		for i := range rec.Attempts {
			a := &rec.Attempts[i]
			a.Error = redactString(a.Error, cr.key)
			for _, m := range []*Message{a.Sent, a.Received} {
				if m == nil {
					continue
				}
				for _, b := range []*[]byte{&m.HeaderBlock, &m.Body} {
					if bytes.Contains(*b, k) {
						*b = bytes.ReplaceAll(*b, k, redacted)
					}
				}
			}
		}
	}
}

func redactString(s, key string) string {
	if !strings.Contains(s, key) {
		return s
	}
	return strings.ReplaceAll(s, key, string(redacted))
}
