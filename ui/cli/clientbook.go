package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
)

// ClientBook manages the client tokens of a data folder (store.ClientsFile):
// the commands use it when no instance runs, the running instance's admin
// API and the desktop app's Clients screen otherwise. Apply, when set, puts
// each new list in force in the running proxy.
type ClientBook struct {
	DataDir string
	Apply   func([]store.Client)
}

// ClientSpec is what a new client token is made from.
type ClientSpec struct {
	Name        string        `json:"name"`
	Models      []string      `json:"models,omitempty"`
	Providers   []string      `json:"providers,omitempty"`
	DailyTokens int64         `json:"daily_tokens,omitempty"`
	DailyUSD    float64       `json:"daily_usd,omitempty"`
	Expires     time.Duration `json:"expires,omitempty"` // from now; 0: never
}

// Check reports what is wrong with the spec, every problem at once.
func (s ClientSpec) Check() error {
	var errs []string
	if !store.ValidClientName(s.Name) {
		errs = append(errs, fmt.Sprintf("name %q must be 1-64 of a-z 0-9 . _ - (and not %q)", s.Name, store.LocalClient))
	}
	for _, g := range s.Models {
		if err := config.ValidGlob(g); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, p := range s.Providers {
		if !config.ValidName(p) {
			errs = append(errs, fmt.Sprintf("provider %q must match [a-z0-9-]+", p))
		}
	}
	if s.DailyTokens < 0 || s.DailyUSD < 0 || s.Expires < 0 {
		errs = append(errs, "budgets and expiry must not be negative")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// List returns the clients, sorted by name.
func (b ClientBook) List() ([]store.Client, error) {
	list, err := store.LoadClients(b.DataDir)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, err
}

// Add creates a client token and returns it: the only time it is shown.
func (b ClientBook) Add(s ClientSpec) (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	tok, sum, err := store.NewToken()
	if err != nil {
		return "", err
	}
	now := time.Now()
	c := store.Client{Name: s.Name, SHA256: sum, Models: s.Models, Providers: s.Providers,
		DailyTokens: s.DailyTokens, DailyUSD: s.DailyUSD, Created: now}
	if s.Expires > 0 {
		c.Expires = now.Add(s.Expires)
	}
	err = b.edit(func(list []store.Client) ([]store.Client, error) {
		if store.FindClient(list, s.Name) >= 0 {
			return nil, fmt.Errorf("client %q exists: `gatehouse clients rotate %s` gives it a new token", s.Name, s.Name)
		}
		return append(list, c), nil
	})
	return tok, err
}

// Remove revokes a client's token.
func (b ClientBook) Remove(name string) error {
	return b.edit(func(list []store.Client) ([]store.Client, error) {
		i := store.FindClient(list, name)
		if i < 0 {
			return nil, fmt.Errorf("client %q: %w", name, store.ErrNoClient)
		}
		return append(list[:i], list[i+1:]...), nil
	})
}

// Rotate replaces a client's token (scopes, budgets and expiry stay) and
// returns the new one; the old one stops working at once.
func (b ClientBook) Rotate(name string) (string, error) {
	tok, sum, err := store.NewToken()
	if err != nil {
		return "", err
	}
	err = b.edit(func(list []store.Client) ([]store.Client, error) {
		i := store.FindClient(list, name)
		if i < 0 {
			return nil, fmt.Errorf("client %q: %w", name, store.ErrNoClient)
		}
		list[i].SHA256 = sum
		return list, nil
	})
	return tok, err
}

func (b ClientBook) edit(fn func([]store.Client) ([]store.Client, error)) error {
	var out []store.Client
	err := store.EditClients(b.DataDir, config.WriteFileAtomic, func(list []store.Client) ([]store.Client, error) {
		var err error
		out, err = fn(list)
		return out, err
	})
	if err == nil && b.Apply != nil {
		b.Apply(out)
	}
	return err
}

// ProxyClients converts the stored clients to the proxy's form; a record with
// a bad hash is skipped (it can match no token).
func ProxyClients(list []store.Client) []proxy.Client {
	out := make([]proxy.Client, 0, len(list))
	for _, c := range list {
		sum, err := hex.DecodeString(c.SHA256)
		if err != nil || len(sum) != 32 {
			continue
		}
		pc := proxy.Client{Name: c.Name, Models: c.Models, Providers: c.Providers,
			DailyTokens: c.DailyTokens, DailyUSD: c.DailyUSD, Expires: c.Expires}
		copy(pc.Hash[:], sum)
		out = append(out, pc)
	}
	return out
}

// ClientStatus is one row of `clients list`: the record (never the token)
// with today's usage.
type ClientStatus struct {
	Name        string    `json:"name"`
	Models      []string  `json:"models,omitempty"`
	Providers   []string  `json:"providers,omitempty"`
	DailyTokens int64     `json:"daily_tokens,omitempty"`
	DailyUSD    float64   `json:"daily_usd,omitempty"`
	TokensToday int64     `json:"tokens_today"`
	USDToday    float64   `json:"usd_today"`
	InFlight    int       `json:"in_flight"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires,omitzero"`
}

// ClientStatuses joins the records with their usage (by name).
func ClientStatuses(list []store.Client, usage map[string]proxy.ClientUsage) []ClientStatus {
	out := make([]ClientStatus, 0, len(list))
	for _, c := range list {
		u := usage[c.Name]
		out = append(out, ClientStatus{Name: c.Name, Models: c.Models, Providers: c.Providers,
			DailyTokens: c.DailyTokens, DailyUSD: c.DailyUSD, TokensToday: u.Tokens, USDToday: u.USD,
			InFlight: u.InFlight, LastUsed: u.LastUsed, Created: c.Created, Expires: c.Expires})
	}
	return out
}

// UsageFromHistory is each client's usage today as the history records it
// (the day from local midnight; last use within maxAge). The running instance
// seeds its budgets with it at start.
func UsageFromHistory(h *store.History, now time.Time, maxAge time.Duration) (map[string]proxy.ClientUsage, error) {
	y, m, d := now.Date()
	act, err := h.ClientActivity(time.Date(y, m, d, 0, 0, 0, 0, now.Location()), now.Add(-maxAge))
	if err != nil {
		return nil, fmt.Errorf("read client usage from history: %w", err)
	}
	out := make(map[string]proxy.ClientUsage, len(act))
	for name, a := range act {
		out[name] = proxy.ClientUsage{LastUsed: a.LastUsed, Tokens: a.Tokens, USD: a.USD}
	}
	return out, nil
}

// parseDays reads a duration that may be given in days ("30d") or as a Go
// duration ("12h").
func parseDays(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (30d, 12h)", s)
	}
	return d, nil
}
