package store

import (
	"bytes"
	"strings"
)

// secret is a literal secret to find in bodies, with the byte its search looks
// for first. bytes.Index jumps from one occurrence of the needle's first byte to
// the next; keys start with common letters ("sk-", the s of "messages" and
// "assistant"), so the search stopped at every s of a JSON body. Starting it at
// the key's rarest byte makes it one vectorised skip over the body (issue 12:
// the secret scan was a third of the writer's encoding).
type secret struct {
	b      []byte
	s      string // b as a string, for redacting strings without a conversion per call
	anchor int    // the offset of the byte searched for first
}

// minAnchorTail keeps the searched part of a secret long enough to be selective.
const minAnchorTail = 8

func newSecret(s string) secret {
	sec := secret{b: []byte(s), s: s}
	best := commonness(sec.b[0])
	for i := 1; i+minAnchorTail <= len(sec.b); i++ {
		if c := commonness(sec.b[i]); c < best {
			sec.anchor, best = i, c
		}
	}
	return sec
}

// in reports whether b holds the secret.
func (s secret) in(b []byte) bool {
	tail := s.b[s.anchor:]
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], tail)
		if i < 0 {
			return false
		}
		i += off
		if i >= s.anchor && bytes.Equal(b[i-s.anchor:i], s.b[:s.anchor]) {
			return true
		}
		off = i + 1
	}
	return false
}

// commonness ranks how often a byte comes up in JSON bodies and headers: 3 for
// the letters of English text, spaces and JSON's punctuation, 2 for the other
// lower-case letters, 1 for digits and the rest of ASCII, 0 for upper-case
// letters other than the common initials, and anything else.
func commonness(c byte) int {
	switch {
	case strings.IndexByte("etaoinsrhldcum \"{}:,\n", c) >= 0:
		return 3
	case 'a' <= c && c <= 'z':
		return 2
	case strings.IndexByte("0123456789-_./=+ACDEIMNOPRST", c) >= 0:
		return 1
	}
	return 0
}
