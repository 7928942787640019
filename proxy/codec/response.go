package codec

import (
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
)

// now is the clock for "created" fields; tests pin it.
var now = time.Now

// decodeResponse reads a non-streaming success body of format f.
func decodeResponse(f config.Format, body []byte) (*chatResponse, error) {
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("%w: response body is not valid JSON", ErrInvalid)
	}
	r := gjson.ParseBytes(body)
	switch f {
	case config.FormatResponses:
		return responsesResponse(r), nil
	case config.FormatAnthropic:
		return anthropicResponse(r), nil
	case config.FormatGemini:
		return geminiResponse(r), nil
	}
	return openaiResponse(r), nil
}

// encodeResponse writes r as a non-streaming body of format f. model, when not
// "", replaces the upstream's model name (the client sees the name it asked for).
// custom names a Responses client's custom tools (RequestInfo.custom).
func encodeResponse(dst []byte, f config.Format, r *chatResponse, model string, custom map[string]bool) []byte {
	if model == "" {
		model = r.Model
	}
	switch f {
	case config.FormatResponses:
		return appendResponsesResponse(dst, r, model, custom)
	case config.FormatAnthropic:
		return appendAnthropicResponse(dst, r, model)
	case config.FormatGemini:
		return appendGeminiResponse(dst, r, model)
	}
	return appendOpenAIResponse(dst, r, model)
}

// joinText concatenates the parts of kind k.
func joinText(parts []Part, k PartKind) (string, bool) {
	var b strings.Builder
	found := false
	for _, p := range parts {
		if p.Kind == k {
			b.WriteString(p.Text)
			found = true
		}
	}
	return b.String(), found
}
