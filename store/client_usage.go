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
	// Calls, Tokens (input plus output, as budgets count them) and USD (the
	// calls' recorded cost; unknown costs add nothing) since the day's start.
	Calls  int64
	Tokens int64
	USD    float64
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
				a = &ClientActivity{LastUsed: call.Time}
				out[call.Client] = a
			}
			if bytes.Compare(k, day) < 0 {
				continue
			}
			a.Calls++
			for _, n := range []*int64{call.InputTokens, call.OutputTokens} {
				if n != nil {
					a.Tokens += *n
				}
			}
			if call.CostUSD != nil {
				a.USD += *call.CostUSD
			}
		}
		return nil
	})
	return out, err
}
