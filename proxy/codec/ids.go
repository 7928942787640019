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

// A thoughtSignature on a plain text part must come back on that part
// (MAPPING.md §5), and text has no id to carry it. It travels to the client as
// a thinking block holding only the marked signature, right after the text;
// clients that echo thinking blocks (Anthropic, Responses reasoning items)
// bring it back, and the Gemini encoder puts it on the text before it. Other
// targets drop it: it is not their signature.
const textSigMarker = "gemini_text_sig:"

// textSignature returns the Gemini signature a thinking part carries for the
// text before it, if it is one.
func textSignature(p *Part) (string, bool) {
	if p.Kind != PartThinking {
		return "", false
	}
	return strings.CutPrefix(p.Signature, textSigMarker)
}

// attachTextSignatures moves each marked text signature onto the text part
// before it in the same message.
func attachTextSignatures(msgs []Message) {
	for _, m := range msgs {
		for i := range m.Parts {
			sig, ok := textSignature(&m.Parts[i])
			if !ok {
				continue
			}
			for j := i - 1; j >= 0; j-- {
				if m.Parts[j].Kind == PartText {
					m.Parts[j].Signature = sig
					break
				}
			}
		}
	}
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

// prefixedID gives a response id the prefix its format's clients expect,
// keeping the upstream id recognisable.
func prefixedID(prefix, id string) string {
	if strings.HasPrefix(id, prefix) {
		return id
	}
	return prefix + sanitizeID(id)
}
