package proxy

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// endpointKind is what an inbound request asks for.
type endpointKind uint8

const (
	kindChat        endpointKind = iota + 1 // chat completions / responses / messages / generateContent
	kindEmbeddings                          // OpenAI embeddings (same-format only)
	kindCountTokens                         // Anthropic count_tokens, Gemini countTokens (same-format only)
	kindModels                              // model list
	kindPrompt                              // POST /v1/prompts/NAME (prompt.go)
)

// endpoint is a parsed inbound request line.
type endpoint struct {
	kind   endpointKind
	format config.Format
	// model is the Gemini model from the URL ("" for the others: it is in the body).
	model string
	// stream is set by the URL for Gemini (:streamGenerateContent).
	stream bool
	// vars are a prompt call's variables (POST /v1/prompts/NAME; nil for
	// the model "prompt/NAME", whose last user message fills {{input}}).
	vars map[string]string
}

// wire is the wire format of the endpoint's own bodies and streams (the
// Responses API for /v1/responses, whose format is FormatResponses).
func (ep endpoint) wire() config.Format { return ep.format }

// parseEndpoint maps a method and path to an endpoint. The /v1 prefix is optional
// for OpenAI and Anthropic paths, since some tools are configured without it.
func parseEndpoint(method, path []byte) (endpoint, bool) {
	p := path
	if bytes.HasPrefix(p, []byte("/v1beta/")) || bytes.HasPrefix(p, []byte("/v1alpha/")) {
		return parseGemini(method, p[bytes.IndexByte(p[1:], '/')+1:])
	}
	p = bytes.TrimPrefix(p, []byte("/v1"))
	post := string(method) == "POST"
	switch string(p) {
	case "/chat/completions":
		return endpoint{kind: kindChat, format: config.FormatOpenAI}, post
	case "/messages":
		return endpoint{kind: kindChat, format: config.FormatAnthropic}, post
	case "/messages/count_tokens":
		return endpoint{kind: kindCountTokens, format: config.FormatAnthropic}, post
	case "/responses":
		return endpoint{kind: kindChat, format: config.FormatResponses}, post
	case "/embeddings":
		return endpoint{kind: kindEmbeddings, format: config.FormatOpenAI}, post
	case "/models":
		return endpoint{kind: kindModels, format: config.FormatOpenAI}, string(method) == "GET"
	}
	if name, ok := bytes.CutPrefix(p, []byte("/prompts/")); ok && len(name) > 0 {
		return endpoint{kind: kindPrompt, format: config.FormatOpenAI, model: string(name)}, post
	}
	if bytes.HasPrefix(p, []byte("/models/")) && bytes.IndexByte(p, ':') > 0 {
		return parseGemini(method, p) // Gemini's v1 paths
	}
	return endpoint{}, false
}

// parseGemini parses "/models/{model}:{method}" (the version segment removed).
func parseGemini(method, p []byte) (endpoint, bool) {
	ep := endpoint{format: config.FormatGemini}
	if string(p) == "/models" {
		ep.kind = kindModels
		return ep, string(method) == "GET"
	}
	rest, ok := bytes.CutPrefix(p, []byte("/models/"))
	if !ok {
		return ep, false
	}
	i := bytes.LastIndexByte(rest, ':')
	if i <= 0 {
		return ep, false
	}
	ep.model = string(rest[:i])
	switch string(rest[i+1:]) {
	case "generateContent":
		ep.kind = kindChat
	case "streamGenerateContent":
		ep.kind, ep.stream = kindChat, true
	case "countTokens":
		ep.kind = kindCountTokens
	default:
		return ep, false
	}
	return ep, string(method) == "POST"
}

// target is one provider/model to try.
type target struct {
	provider *config.Provider
	model    string // the upstream model name
}

// routeError explains why a model could not be routed.
type routeError struct{ msg string }

func (e *routeError) Error() string { return e.msg }

// resolve finds the targets for a requested model:
//  1. "provider/model" picks that provider (split at the first "/");
//  2. a [[route]] alias gives its ordered fallback chain;
//  3. otherwise the first provider whose model globs match.
func resolve(cfg *config.Config, model string) ([]target, error) {
	if model == "" {
		return nil, &routeError{"the request names no model"}
	}
	if prov, rest, ok := strings.Cut(model, "/"); ok && rest != "" {
		if p, ok := cfg.Provider(prov); ok {
			return []target{{provider: p, model: rest}}, nil
		}
	}
	if rt, ok := cfg.Route(model); ok {
		out := make([]target, 0, len(rt.Targets))
		for _, t := range rt.Targets {
			prov, m, _ := strings.Cut(t, "/")
			p, ok := cfg.Provider(prov)
			if !ok {
				return nil, &routeError{fmt.Sprintf("route %q names unknown provider %q", model, prov)}
			}
			out = append(out, target{provider: p, model: m})
		}
		return out, nil
	}
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		for _, g := range p.Models {
			if globMatch(g, model) {
				return []target{{provider: p, model: model}}, nil
			}
		}
	}
	return nil, &routeError{fmt.Sprintf(
		"model %q is not routed: ask for \"provider/model\" (e.g. \"openai/%s\"), add a [[route]] with model = %q to config.toml, or add a glob matching it to a provider's models",
		model, model, model)}
}

// globMatch matches s against a pattern where '*' matches any run of characters
// (slashes included, so "accounts/fireworks/*" covers nested names) and '?' one.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}
