package proxy

import (
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// applyAuth sets provider p's credentials on an outbound request. key is the
// resolved main key (keychain, then key_env, then the client's own); body is the
// exact body that will be sent (signing schemes hash it).
func (s *Server) applyAuth(req *fasthttp.Request, p *config.Provider, key string, body []byte) error {
	if key == "" {
		return nil
	}
	switch p.DefaultAuth() {
	case "x-api-key":
		req.Header.Set("x-api-key", key)
	case "x-goog-api-key":
		req.Header.Set("x-goog-api-key", key)
	case "api-key":
		req.Header.Set("api-key", key)
	case "header":
		req.Header.Set(p.AuthOptions.Header, p.AuthOptions.Prefix+key)
	case "none":
	default:
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return nil
}
