package codec

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// capturedDir holds the exact requests the real clients sent in the
// conformance suite (testdata/conformance/README.md).
const capturedDir = "../../testdata/conformance/captured/"

// TestCapturedClientRequestsTranslate runs every model call Claude Code, Codex
// and the SDKs really sent through the translation to every other format:
// each must translate (no 400 of Gatehouse's making) into a body the target
// accepts as far as it is known here.
func TestCapturedClientRequestsTranslate(t *testing.T) {
	files, _ := filepath.Glob(capturedDir + "*.json")
	if len(files) < 20 {
		t.Fatalf("found %d captured client files in %s", len(files), capturedDir)
	}
	models := map[config.Format]string{oai: "gpt-4o", ant: "claude-sonnet-4-5", gem: "gemini-2.5-flash", rsp: "o3-pro"}
	n := 0
	for _, path := range files {
		capture := gjson.Parse(string(readFile(t, path)))
		for i, r := range capture.Get("requests").Array() {
			p, body := r.Get("path").String(), r.Get("body")
			from, ok := capturedFormat(p)
			if !ok || !body.IsObject() {
				continue
			}
			for to, model := range models {
				if to == from {
					continue
				}
				n++
				name := filepath.Base(path) + "#" + string(rune('0'+i)) + "_to_" + string(to)
				out, _, err := Request(from, to, []byte(body.Raw), RequestOptions{Model: model, Stream: strings.Contains(p, "stream") || body.Get("stream").Bool(), DefaultMaxTokens: 4096})
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if !gjson.ValidBytes(out) {
					t.Errorf("%s: invalid JSON out", name)
				}
				for _, bad := range []string{`"web_search"`, `"cache_control"`, `"role":"developer"`} {
					if to != ant && strings.Contains(string(out), bad) {
						t.Errorf("%s: %s reached %s", name, bad, to)
					}
				}
				if u := gjson.GetBytes(out, "user").String() + gjson.GetBytes(out, "safety_identifier").String(); len(u) > 64 {
					t.Errorf("%s: end-user id of %d characters", name, len(u))
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("translated only %d captured requests", n)
	}
}

// capturedFormat is the format of a model call by its path.
func capturedFormat(path string) (config.Format, bool) {
	switch {
	case strings.HasPrefix(path, "/v1/responses"):
		return rsp, true
	case strings.HasPrefix(path, "/v1/chat/completions"):
		return oai, true
	case strings.HasPrefix(path, "/v1/messages") && !strings.Contains(path, "count_tokens"):
		return ant, true
	case strings.Contains(path, ":generateContent"), strings.Contains(path, ":streamGenerateContent"):
		return gem, true
	}
	return "", false
}
