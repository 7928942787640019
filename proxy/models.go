package proxy

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// modelListTTL is how long a provider's model list is cached.
const modelListTTL = 10 * time.Minute

// modelListTimeout bounds one provider's model-list fetch.
const modelListTimeout = 5 * time.Second

// modelCache keeps each provider's model list.
type modelCache struct {
	mu      sync.Mutex
	entries map[string]modelEntry
}

type modelEntry struct {
	models  []string
	fetched time.Time
}

// serveModels answers GET /v1/models: the route aliases, then for each provider
// with a key its own models as "provider/model". A provider that fails to list
// is skipped and logged.
func (s *Server) serveModels(ctx *fasthttp.RequestCtx, ep endpoint, cfg *config.Config) {
	ids := make([]string, 0, 64)
	owners := make([]string, 0, 64)
	for _, r := range cfg.Routes {
		ids = append(ids, r.Model)
		owners = append(owners, "gatehouse")
	}
	type result struct {
		p      *config.Provider
		models []string
	}
	var wg sync.WaitGroup
	results := make([]result, len(cfg.Providers))
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		key, src := s.resolveKey(p, nil)
		if src == sourceNone && !p.NoKey {
			continue // only providers the user has a key for
		}
		wg.Add(1)
		go func(i int, p *config.Provider, key string) {
			defer wg.Done()
			results[i] = result{p: p, models: s.providerModels(p, key)}
		}(i, p, key)
	}
	wg.Wait()
	for _, r := range results {
		for _, m := range r.models {
			ids = append(ids, r.p.Name+"/"+m)
			owners = append(owners, r.p.Name)
		}
	}
	ctx.SetContentType("application/json")
	var out []byte
	if ep.format == config.FormatGemini {
		out = geminiModelList(ids)
	} else if len(ctx.Request.Header.Peek("anthropic-version")) > 0 {
		out = anthropicModelList(ids)
	} else {
		out = openAIModelList(ids, owners)
	}
	ctx.Response.SetBodyRaw(out)
}

// providerModels returns p's model ids, from the cache when fresh.
func (s *Server) providerModels(p *config.Provider, key string) []string {
	s.models.mu.Lock()
	e, ok := s.models.entries[p.Name]
	s.models.mu.Unlock()
	if ok && time.Since(e.fetched) < modelListTTL {
		return e.models
	}
	models, err := s.fetchModels(p, key)
	if err != nil {
		s.log.Warn("model list skipped", "provider", p.Name, "err", err)
		return nil
	}
	s.models.mu.Lock()
	if s.models.entries == nil {
		s.models.entries = make(map[string]modelEntry)
	}
	s.models.entries[p.Name] = modelEntry{models: models, fetched: time.Now()}
	s.models.mu.Unlock()
	return models
}

func (s *Server) fetchModels(p *config.Provider, key string) ([]string, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	url := ModelsURL(p)
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodGet)
	if p.Format == config.FormatAnthropic {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	if err := s.applyAuth(req, p, key, nil); err != nil {
		return nil, err
	}
	if err := s.clientFor(p).DoTimeout(req, resp, modelListTimeout); err != nil {
		return nil, fmt.Errorf("GET %s: %w", redactURL(url), err)
	}
	body, err := readBody(resp, 16<<20)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redactURL(url), err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", redactURL(url), resp.StatusCode())
	}
	return ParseModels(p.Format, body), nil
}

// ParseModels reads the model ids out of a provider's model list in format f.
func ParseModels(f config.Format, body []byte) []string {
	var out []string
	if f == config.FormatGemini {
		gjson.GetBytes(body, "models.#.name").ForEach(func(_, v gjson.Result) bool {
			out = append(out, strings.TrimPrefix(v.String(), "models/"))
			return true
		})
		return out
	}
	gjson.GetBytes(body, "data.#.id").ForEach(func(_, v gjson.Result) bool {
		out = append(out, v.String())
		return true
	})
	return out
}

func openAIModelList(ids, owners []string) []byte {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	data := make([]model, len(ids))
	for i, id := range ids {
		data[i] = model{ID: id, Object: "model", OwnedBy: owners[i]}
	}
	b, _ := json.Marshal(struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", data})
	return b
}

func anthropicModelList(ids []string) []byte {
	type model struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
	}
	data := make([]model, len(ids))
	for i, id := range ids {
		data[i] = model{Type: "model", ID: id, DisplayName: id, CreatedAt: "1970-01-01T00:00:00Z"}
	}
	var first, last string
	if len(ids) > 0 {
		first, last = ids[0], ids[len(ids)-1]
	}
	b, _ := json.Marshal(struct {
		Data    []model `json:"data"`
		HasMore bool    `json:"has_more"`
		FirstID string  `json:"first_id"`
		LastID  string  `json:"last_id"`
	}{data, false, first, last})
	return b
}

func geminiModelList(ids []string) []byte {
	type model struct {
		Name                       string   `json:"name"`
		DisplayName                string   `json:"displayName"`
		SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
	}
	data := make([]model, len(ids))
	for i, id := range ids {
		data[i] = model{Name: "models/" + id, DisplayName: id, SupportedGenerationMethods: []string{"generateContent", "streamGenerateContent", "countTokens"}}
	}
	b, _ := json.Marshal(struct {
		Models []model `json:"models"`
	}{data})
	return b
}
