package proxy

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Client tokens (issue 13): a tool sends a "gh_" token where it would send an
// API key. The proxy never forwards nor records it; it looks the token's
// SHA-256 up in a map (no allocation), applies the token's scopes and daily
// budgets, and records the client's name with the call.

// LocalClient is the client name of calls made without a token.
const LocalClient = "local"

// tokenPrefix starts every client token.
var tokenPrefix = []byte("gh_")

// Client is one client token as the proxy checks it.
type Client struct {
	Name string
	// Hash is the SHA-256 of the token.
	Hash [32]byte
	// Models are globs the requested model must match; empty: any model.
	Models []string
	// Providers are the providers calls may go to; empty: any.
	Providers []string
	// DailyTokens and DailyUSD are budgets per local day; 0: none. Spend
	// comes from the price table (pricing); a model without a price costs 0.
	DailyTokens int64
	DailyUSD    float64
	// Expires is when the token stops working; zero: never.
	Expires time.Time
}

// clientEntry is a token in force with its usage counters.
type clientEntry struct {
	Client
	use *clientUsage
}

// clientTable maps token hashes to clients; replaced whole by SetClients.
type clientTable struct {
	byHash map[[32]byte]*clientEntry
}

// clientsState is the Server's token table and the usage of every client name
// seen, which outlives table swaps (a rotated token keeps its day's usage).
type clientsState struct {
	table atomic.Pointer[clientTable]
	mu    sync.Mutex
	usage map[string]*clientUsage
}

func (cs *clientsState) usageOf(name string) *clientUsage {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.usage == nil {
		cs.usage = map[string]*clientUsage{}
	}
	u := cs.usage[name]
	if u == nil {
		u = &clientUsage{}
		cs.usage[name] = u
	}
	return u
}

// SetClients puts a new set of client tokens in force; calls in flight keep
// the token they were admitted with. Safe for concurrent use.
func (s *Server) SetClients(list []Client) {
	t := &clientTable{byHash: make(map[[32]byte]*clientEntry, len(list))}
	for _, c := range list {
		t.byHash[c.Hash] = &clientEntry{Client: c, use: s.tokens.usageOf(c.Name)}
	}
	s.tokens.table.Store(t)
}

// lookupClient finds the client of a token; nil when the token is unknown.
func (s *Server) lookupClient(token []byte) *clientEntry {
	t := s.tokens.table.Load()
	if t == nil {
		return nil
	}
	return t.byHash[sha256.Sum256(token)]
}

// findToken returns the client token a request carries where an API key goes
// (Authorization: Bearer, x-api-key, x-goog-api-key, api-key, ?key=), or nil.
// It does not allocate.
func findToken(req *fasthttp.Request) []byte {
	if v := req.Header.Peek("Authorization"); len(v) > 7 && strings.EqualFold(string(v[:7]), "bearer ") {
		if t := bytes.TrimSpace(v[7:]); bytes.HasPrefix(t, tokenPrefix) {
			return t
		}
	}
	for _, h := range [...]string{"x-api-key", "x-goog-api-key", "api-key"} {
		if v := req.Header.Peek(h); bytes.HasPrefix(v, tokenPrefix) {
			return v
		}
	}
	if v := req.URI().QueryArgs().Peek("key"); bytes.HasPrefix(v, tokenPrefix) {
		return v
	}
	return nil
}

// isClientToken reports whether a key the client sent is a client token,
// which is never forwarded upstream.
func isClientToken(key []byte) bool { return bytes.HasPrefix(key, tokenPrefix) }

// allowsModel reports whether the token's model scope lets model through.
func (c *Client) allowsModel(model string) bool {
	if len(c.Models) == 0 {
		return true
	}
	for _, g := range c.Models {
		if globMatch(g, model) {
			return true
		}
	}
	return false
}

// allowsProvider reports whether the token's provider scope lets name through.
func (c *Client) allowsProvider(name string) bool {
	if len(c.Providers) == 0 {
		return true
	}
	for _, p := range c.Providers {
		if p == name {
			return true
		}
	}
	return false
}

// scopeTargets applies the client's scopes to a call: the targets it may use,
// or the 403 message naming the scope that refused it.
func (c *Client) scopeTargets(model string, targets []target) ([]target, string) {
	if !c.allowsModel(model) {
		return nil, fmt.Sprintf("client %q may not call model %q: its token's models scope is %s", c.Name, model, strings.Join(c.Models, ", "))
	}
	if len(c.Providers) == 0 {
		return targets, ""
	}
	out := targets[:0:0]
	var names []string
	for _, t := range targets {
		if c.allowsProvider(t.provider.Name) {
			out = append(out, t)
		} else {
			names = append(names, t.provider.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Sprintf("client %q may not use provider %s for model %q: its token's providers scope is %s", c.Name, strings.Join(names, ", "), model, strings.Join(c.Providers, ", "))
	}
	return out, ""
}

// ClientUsage is one client's use of its budgets today (local day).
type ClientUsage struct {
	Tokens   int64   // tokens of finished calls today
	USD      float64 // their cost, from the price table (models without a price count 0)
	InFlight int     // calls running now
	LastUsed time.Time
}

// ClientUsage returns the usage of every client name seen since start (by
// seeding or calls).
func (s *Server) ClientUsage() map[string]ClientUsage {
	s.tokens.mu.Lock()
	names := make(map[string]*clientUsage, len(s.tokens.usage))
	for n, u := range s.tokens.usage {
		names[n] = u
	}
	s.tokens.mu.Unlock()
	now := time.Now()
	out := make(map[string]ClientUsage, len(names))
	for n, u := range names {
		out[n] = u.snapshot(now)
	}
	return out
}

// SeedClientUsage adds what history says a client used today (calls made
// before this process started) and its last use, so that a restart does not
// reset a day's budget.
func (s *Server) SeedClientUsage(name string, tokens int64, usd float64, lastUsed time.Time) {
	s.tokens.usageOf(name).seed(time.Now(), tokens, usd, lastUsed)
}
