package store

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ClientActivity is what the history says of one client token's calls.
type ClientActivity struct {
	// LastUsed is the time of its newest call (zero: none in the scanned span).
	LastUsed time.Time
	// Today sums the token counts of its calls since the day's start, by the
	// upstream model (prices are per model; the requested one when none).
	Today map[string]TokenSums
}

// TokenSums are summed token counts (unknown counts add nothing).
type TokenSums struct {
	Calls                                           int64
	Input, Output, CacheRead, CacheWrite, Reasoning int64
}

func (s *TokenSums) add(c *Call) {
	s.Calls++
	for _, p := range [...]struct {
		dst *int64
		v   *int64
	}{{&s.Input, c.InputTokens}, {&s.Output, c.OutputTokens}, {&s.CacheRead, c.CacheReadTokens}, {&s.CacheWrite, c.CacheWriteTokens}, {&s.Reasoning, c.ReasoningTokens}} {
		if p.v != nil {
			*p.dst += *p.v
		}
	}
}

// ClientActivity scans the calls made with client tokens, newest first back to
// since: the day's usage per client from dayStart on, and each client's last
// call. Calls without a token are skipped. A running instance seeds its
// budgets with it at start, so a restart does not reset a day's spending.
func (h *History) ClientActivity(dayStart, since time.Time) (map[string]*ClientActivity, error) {
	out := map[string]*ClientActivity{}
	day, from := timeKey(dayStart), timeKey(since)
	marker, local := []byte(`"client":`), []byte(`"client":"local"`)
	err := h.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCalls).Cursor()
		for k, v := c.Last(); k != nil && bytes.Compare(k, from) >= 0; k, v = c.Prev() {
			if !bytes.Contains(v, marker) || bytes.Contains(v, local) {
				continue // a call without a token (the common case, kept cheap)
			}
			call, err := decodeSummary(v)
			if err != nil {
				return err
			}
			if call.ClientName() == LocalClient {
				continue
			}
			a := out[call.Client]
			if a == nil {
				a = &ClientActivity{LastUsed: call.Time, Today: map[string]TokenSums{}}
				out[call.Client] = a
			}
			if bytes.Compare(k, day) >= 0 {
				model := call.UpstreamModel
				if model == "" {
					model = call.Model
				}
				s := a.Today[model]
				s.add(&call)
				a.Today[model] = s
			}
		}
		return nil
	})
	return out, err
}
