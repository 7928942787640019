package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
)

// HistoryOptions maps the config's [history] table to store options.
func HistoryOptions(cfg *config.Config) store.Options {
	opts := store.Options{
		BodyCap: cfg.History.BodyCapBytes,
		MaxAge:  cfg.History.MaxAge.Duration,
		MaxSize: cfg.History.MaxSizeMB << 20,
	}
	return opts
}

// historySource is where the history commands read: the running instance's
// admin API, or the file itself when no instance runs.
type historySource interface {
	List(q store.Query) (store.Page, error)
	Get(id string) (store.Call, error)
	Prune() (store.Pruned, error)
	Close()
}

// remoteHistory asks a running instance.
type remoteHistory struct{ c *Client }

func (r remoteHistory) get(path string, out any) error {
	status, body, err := r.c.Do(http.MethodGet, path, nil)
	return decodeAdmin(status, body, err, out)
}

func decodeAdmin(status int, body []byte, err error, out any) error {
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		if status == http.StatusNotFound && strings.Contains(e.Error, store.ErrNotFound.Error()) {
			return fmt.Errorf("%s: %w", e.Error, store.ErrNotFound)
		}
		return fmt.Errorf("running instance answered %d: %s", status, e.Error)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer of the running instance: %w", err)
	}
	return nil
}

func (r remoteHistory) List(q store.Query) (store.Page, error) {
	var p store.Page
	return p, r.get("history?"+historyQueryValues(q).Encode(), &p)
}

func (r remoteHistory) Get(id string) (store.Call, error) {
	var c store.Call
	return c, r.get("history/calls/"+url.PathEscape(id), &c)
}

func (r remoteHistory) Prune() (store.Pruned, error) {
	var p store.Pruned
	status, body, err := r.c.Do(http.MethodPost, "history/prune", nil)
	return p, decodeAdmin(status, body, err, &p)
}

func (r remoteHistory) Close() {}

// Drops returns what the running instance could not record (overload).
func (r remoteHistory) Drops() (store.Drops, error) {
	var d store.Drops
	return d, r.get("history/drops", &d)
}

// Health returns the running instance's history faults (a full disk, a
// damaged file moved aside).
func (r remoteHistory) Health() (store.Health, error) {
	var h store.Health
	return h, r.get("history/health", &h)
}

// dropSource is a historySource that knows its overload drops (a running
// instance; a file opened by the command has dropped nothing).
type dropSource interface {
	Drops() (store.Drops, error)
}

// localHistory reads the file directly.
type localHistory struct{ h *store.History }

func (l localHistory) List(q store.Query) (store.Page, error) { return l.h.List(q) }
func (l localHistory) Get(id string) (store.Call, error)      { return l.h.Get(id) }
func (l localHistory) Prune() (store.Pruned, error)           { return pruneAndCompact(l.h) }
func (l localHistory) Close()                                 { _ = l.h.Close() }

// openHistorySource finds the running instance of the data folder, or opens its
// file. Only prune applies retention (with the config's limits): browsing never
// deletes anything.
func openHistorySource(cf Flags, forPrune bool) (historySource, error) {
	dataDir, err := cf.DataDir()
	if err != nil {
		return nil, err
	}
	if c, ok := FindRunning(dataDir); ok {
		return remoteHistory{c}, nil
	}
	opts := store.Options{MaxAge: -1, MaxSize: -1}
	if forPrune {
		cfg, err := cf.LoadConfig(dataDir)
		if err != nil {
			return nil, err
		}
		opts = HistoryOptions(cfg)
	}
	opts.NoRetention = true
	h, err := store.OpenHistory(dataDir, opts)
	if errors.Is(err, store.ErrCorrupt) {
		return nil, fmt.Errorf("%w\nstart Gatehouse (the app or `gatehouse serve`): it moves the damaged file aside, keeping it, and begins a new history", err)
	}
	if err != nil {
		return nil, err
	}
	return localHistory{h}, nil
}
