package proxy

import (
	"testing"
)

// Issue 19.1: every record lists every attempt, the one that answered included.
func TestRecordListsEveryAttempt(t *testing.T) {
	fail := errStep(502, `{"error":{"message":"bad gateway"}}`)
	for _, tc := range []struct {
		name, path, body string
		steps            []step
		want             []int // attempt statuses
	}{
		{"plain first try", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[]}`, nil, []int{200}},
		{"plain after two 502", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[]}`, []step{fail, fail}, []int{502, 502, 200}},
		{"stream first try", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[],"stream":true}`, nil, []int{200}},
		{"stream after a 502", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[],"stream":true}`, []step{fail}, []int{502, 200}},
		{"translated first try", "/v1/chat/completions", `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`, nil, []int{200}},
		{"translated after a 502", "/v1/messages", `{"model":"gpt-4.1","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, []step{fail}, []int{502, 200}},
		{"all fail", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[]}`, []step{fail, fail, fail}, []int{502, 502, 502}},
		{"client error", "/v1/chat/completions", `{"model":"gpt-4.1","messages":[]}`, []step{errStep(400, `{"error":{"message":"no"}}`)}, []int{400}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeUpstream(t)
			p := newTestProxy(t, testConfig(up, ""), nil)
			up.then(tc.steps...)
			resp, body := p.do(t, "POST", tc.path, []byte(tc.body))
			_ = body
			c := p.rec.next(t)
			var got []int
			for _, a := range c.Attempts {
				got = append(got, a.Status)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("status %d: attempts %v, want %v", resp.StatusCode(), got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("attempts %v, want %v", got, tc.want)
				}
			}
		})
	}
}
