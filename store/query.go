package store

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Query selects calls for a page. Zero fields do not filter.
type Query struct {
	// Before is the cursor: only calls older than this id (Page.Next of the
	// previous page). "" starts at the newest call.
	Before string
	// Limit is the page size. Default 100, at most 10,000.
	Limit int

	Outcome    string // ok, error, partial or client_cancelled
	FailedOnly bool   // every outcome but ok
	Status     int    // the status the client got
	Provider   string // exact provider name
	Model      string // matches the requested or the upstream model, exactly
	// Client is a client token's name (exact, any case; "local": calls
	// without a token), or a substring of the client's User-Agent, any case.
	Client string
	Since  time.Time
	Until  time.Time // exclusive
	// Retried keeps calls that failed at least once and then got an answer
	// (outcome ok after a failed attempt).
	Retried bool
	// ErrorClass keeps calls with an attempt of this class (proxy.ErrorClass).
	ErrorClass string
	// Search is text looked for in request and response bodies (any case).
	Search string
	// Bodies also loads each call's headers and bodies (export).
	Bodies bool
}

// Page is one page of calls, newest first.
type Page struct {
	Calls []Call `json:"calls"`
	// Next is the cursor of the following page ("" when this is the last).
	Next string `json:"next"`
}

// maxScan bounds the summaries one page may examine, so that a filter matching
// almost nothing in a huge file answers (with a cursor) instead of reading it all.
var maxScan = 200_000 // a var so tests can lower it

// releaseAfter is the scan length past which List gives the pages it read back
// (releasePages): a first page reads a few, a filter over a big file reads many.
const releaseAfter = 2_000

// List returns a page of calls (summaries, no bodies), newest first.
func (h *History) List(q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 10_000)
	page := Page{Calls: []Call{}}
	err := h.view(func(tx *bolt.Tx) error {
		calls, bodies := tx.Bucket(bucketCalls), tx.Bucket(bucketBodies)
		// Walk an index that holds every match (failures are usually the rarest),
		// and test membership of the other index before decoding a summary.
		failedOnly := q.FailedOnly || (q.Outcome != "" && q.Outcome != OutcomeOK)
		failed := tx.Bucket(bucketFailed)
		var provider *bolt.Bucket
		if q.Provider != "" {
			if provider = tx.Bucket(bucketByProvider).Bucket([]byte(q.Provider)); provider == nil {
				return nil
			}
		}
		var keys *bolt.Cursor
		switch {
		case failedOnly:
			keys = failed.Cursor()
		case provider != nil:
			keys = provider.Cursor()
		default:
			keys = calls.Cursor()
		}
		// Start below the cursor and the end of the range, whichever is lower.
		var upper []byte
		if q.Before != "" {
			before, ok := parseKey(q.Before)
			if !ok {
				return fmt.Errorf("list calls: cursor %q is not a call id", q.Before)
			}
			upper = before
		}
		if !q.Until.IsZero() {
			if until := timeKey(q.Until); upper == nil || bytes.Compare(until, upper) < 0 {
				upper = until
			}
		}
		var k []byte
		if upper != nil {
			k = seekBefore(keys, upper)
		} else {
			k, _ = keys.Last()
		}
		var since []byte
		if !q.Since.IsZero() {
			since = timeKey(q.Since)
		}
		search := []byte(strings.ToLower(q.Search))
		client := strings.ToLower(q.Client)
		scanned := 0
		defer func() {
			if scanned >= releaseAfter || len(search) > 0 {
				releasePages(tx)
			}
		}()
		for ; k != nil; k, _ = keys.Prev() {
			if since != nil && bytes.Compare(k, since) < 0 {
				return nil
			}
			if len(page.Calls) == q.Limit || scanned == maxScan {
				page.Next = keyID(page.lastKey(k))
				return nil
			}
			scanned++
			if provider != nil && failedOnly && !has(provider, k) {
				continue
			}
			v := calls.Get(k)
			if v == nil {
				continue
			}
			c, err := decodeSummary(v)
			if err != nil {
				return err
			}
			if !q.matches(&c, client) || !q.matchesAttempts(&c) {
				continue
			}
			if len(search) > 0 && !bodiesContain(bodies.Get(k), search) {
				continue
			}
			if q.Bodies {
				if err := loadBodies(&c, bodies.Get(k)); err != nil {
					return err
				}
			}
			page.Calls = append(page.Calls, c)
		}
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	return page, nil
}

// lastKey is the cursor for the next page: the last call returned, or (when the
// scan bound stopped an empty-so-far page) the key just above k.
func (p *Page) lastKey(k []byte) []byte {
	if n := len(p.Calls); n > 0 {
		kk, _ := parseKey(p.Calls[n-1].ID)
		return kk
	}
	next := bytes.Clone(k)
	for i := len(next) - 1; i >= 0; i-- {
		next[i]++
		if next[i] != 0 {
			break
		}
	}
	return next
}

// has reports whether an index bucket holds key k. Index values are empty, and
// bbolt's Get does not promise to tell an empty value from a missing key.
func has(b *bolt.Bucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return bytes.Equal(got, k)
}

// seekBefore positions c at the last key below k.
func seekBefore(c *bolt.Cursor, k []byte) []byte {
	got, _ := c.Seek(k)
	if got == nil {
		got, _ = c.Last()
		if got != nil && bytes.Compare(got, k) >= 0 {
			got, _ = c.Prev()
		}
		return got
	}
	got, _ = c.Prev()
	return got
}

// matches applies the summary filters.
func (q *Query) matches(c *Call, client string) bool {
	switch {
	case q.Outcome != "" && c.Outcome != q.Outcome:
		return false
	case q.FailedOnly && !c.Failed():
		return false
	case q.Status != 0 && c.Status != q.Status:
		return false
	case q.Provider != "" && c.Provider != q.Provider:
		return false
	case q.Model != "" && c.Model != q.Model && c.UpstreamModel != q.Model:
		return false
	case client != "" && !strings.EqualFold(c.ClientName(), client) && !strings.Contains(strings.ToLower(c.ClientUA), client):
		return false
	}
	return true
}

// Matches reports whether c passes q's summary filters: every filter but the
// cursor, the limit and Search (summaries carry no bodies). The live history
// view applies it to calls as they arrive.
func (q *Query) Matches(c *Call) bool {
	if !q.Since.IsZero() && c.Time.Before(q.Since) || !q.Until.IsZero() && !c.Time.Before(q.Until) {
		return false
	}
	return q.matches(c, strings.ToLower(q.Client)) && q.matchesAttempts(c)
}

// matchesAttempts applies the filters that look at the attempts.
func (q *Query) matchesAttempts(c *Call) bool {
	if !q.Retried && q.ErrorClass == "" {
		return true
	}
	failedOnce, class := false, q.ErrorClass == ""
	for i := range c.Attempts {
		a := &c.Attempts[i]
		failedOnce = failedOnce || a.ErrorClass != "" || a.Status >= 400
		class = class || a.ErrorClass == q.ErrorClass
	}
	return class && (!q.Retried || c.Outcome == OutcomeOK && failedOnce)
}

// bodiesContain reports whether the request or response body in a bodies value
// contains the lowercase text.
func bodiesContain(v []byte, lower []byte) bool {
	if v == nil {
		return false
	}
	sb, err := decodeBodies(v)
	if err != nil {
		return false
	}
	for _, m := range []*Message{sb.Request, sb.Response} {
		if m != nil && bytes.Contains(bytes.ToLower([]byte(m.Body)), lower) {
			return true
		}
	}
	return false
}

// Get returns one call in full: summary, attempts, headers and bodies. It
// returns ErrNotFound when no call has the id.
func (h *History) Get(id string) (Call, error) {
	key, ok := parseKey(id)
	if !ok {
		return Call{}, fmt.Errorf("call %q: %w", id, ErrNotFound)
	}
	var c Call
	err := h.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCalls).Get(key)
		if v == nil {
			return fmt.Errorf("call %s: %w", id, ErrNotFound)
		}
		var err error
		if c, err = decodeSummary(v); err != nil {
			return err
		}
		return loadBodies(&c, tx.Bucket(bucketBodies).Get(key))
	})
	return c, err
}

// loadBodies fills c's headers and bodies from a bodies value (nil: none stored).
func loadBodies(c *Call, v []byte) error {
	if v == nil {
		return nil
	}
	sb, err := decodeBodies(v)
	if err != nil {
		return fmt.Errorf("call %s: %w", c.ID, err)
	}
	c.Request, c.Response, c.Events, c.EventsTruncated = sb.Request, sb.Response, sb.Events, sb.EventsTruncated
	for _, w := range sb.Wires {
		if w.index >= 0 && w.index < len(c.Attempts) {
			c.Attempts[w.index].Wire = w.wire
		}
	}
	return nil
}
