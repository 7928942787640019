package codec

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// Gemini function calls come without ids (2.5) and carry a thoughtSignature
// that must be sent back on the same call in the next turn, or multi-turn tool
// use with thinking fails. The proxy keeps no session, so both travel inside
// the tool-call id handed to the client, which every client echoes back in its
// tool result:
//
//	<base>__gts_<base64url(signature)>
//
// <base> is Gemini's own id, or "gcall_<responseId>_<n>" when it gave none.
// Only [A-Za-z0-9_-] is used: Anthropic validates tool_use ids with that set.
const (
	sigMarker    = "__gts_"
	generatedIDs = "gcall_"
)

// geminiCallID returns the client-facing id of a Gemini function call.
func geminiCallID(id, respID string, n int, sig string) string {
	if id == "" {
		base := sanitizeID(respID)
		if base == "" {
			var b [6]byte
			_, _ = rand.Read(b[:])
			base = hex.EncodeToString(b[:])
		}
		id = generatedIDs + base + "_" + strconv.Itoa(n)
	}
	if sig != "" {
		id += sigMarker + base64.RawURLEncoding.EncodeToString([]byte(sig))
	}
	return id
}

// splitCallID undoes geminiCallID: Gemini's own id ("" when it had none) and
// the thought signature ("" when none).
func splitCallID(id string) (geminiID, sig string) {
	if i := strings.Index(id, sigMarker); i >= 0 {
		if b, err := base64.RawURLEncoding.DecodeString(id[i+len(sigMarker):]); err == nil {
			sig = string(b)
		}
		id = id[:i]
	}
	if strings.HasPrefix(id, generatedIDs) {
		return "", sig
	}
	return id, sig
}

func sanitizeID(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 40; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
