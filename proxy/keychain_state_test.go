package proxy

import (
	"errors"
	"strings"
	"testing"
)

// lockedKeys is a key source whose keychain got locked before the key was read.
type lockedKeys struct{ keys }

func (lockedKeys) Unavailable() error {
	return errors.New("the keychain is locked: unlock it in your keyring app")
}

// TestLockedKeychainSaysSo: a call to a provider whose key could not be read
// because the keychain is locked gets an error in the client's format that says
// so (and that no restart is needed), not a plain "no key" (issue 15 §4).
func TestLockedKeychainSaysSo(t *testing.T) {
	up := newFakeUpstream(t)
	p := newTestProxyOpts(t, testConfig(up, ""), Options{Keys: lockedKeys{keys{}}, Logger: discardLogger()})
	for _, tc := range []struct{ path, body, msgPath string }{
		{"/v1/chat/completions", `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`, "error.message"},
		{"/v1/messages", `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "error.message"},
	} {
		resp, body := p.do(t, "POST", tc.path, []byte(tc.body))
		msg, _ := jsonField(t, body, strings.Split(tc.msgPath, ".")...).(string)
		if resp.StatusCode() != 401 || !strings.Contains(msg, "the keychain is locked: unlock it") || !strings.Contains(msg, "no restart needed") {
			t.Errorf("%s with a locked keychain: %d %s", tc.path, resp.StatusCode(), body)
		}
	}
	if len(up.requests()) != 0 {
		t.Errorf("the upstream got %d requests without a key", len(up.requests()))
	}
}
