package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketRollups holds the hourly usage rollups (schema 3): what stats and the
// Usage screen read instead of the calls. Layout in the package doc.
var bucketRollups = []byte("rollups")

// rollupMaxAge is how long rollups are kept. They outlive the calls they
// count (retention and the size budget delete calls, never rollups): a month
// of stats stays whole after the budget pruned its calls, at a few hundred
// bytes per hour and combination.
const rollupMaxAge = 400 * 24 * time.Hour

// LocalClient is the client name of calls made without a client token.
const LocalClient = "local"

// rollupClient is the client a call is counted under (issue 13).
func rollupClient(c *Call) string { return c.ClientName() }

// Saved reports whether the call failed at least once and was still answered:
// a retry or a fallback saved it.
func (c *Call) Saved() bool {
	if c.Outcome != OutcomeOK {
		return false
	}
	for _, a := range c.Attempts {
		if a.ErrorClass != "" {
			return true
		}
	}
	return false
}

// A rollup key is the hour, then the call's dimensions:
//
//	key   = uint64 BE (hour start, Unix seconds) provider 0x00 model 0x00 client 0x00 status
//	value = 1 (version) uvarint×10 (calls failures saved in out cache_read cache_write
//	        reasoning cost_unknown_calls) float64 BE bits (cost, USD) hist(latency) hist(first byte)
//	hist  = uvarint(n) n×(uvarint(bucket) uvarint(count))   the non-empty buckets, in order
//
// model is the upstream model (the requested one when no attempt was made),
// status the status the client got.
func rollupKey(c *Call) []byte { return appendRollupKey(nil, c) }

// appendRollupKey appends c's rollup key to k.
func appendRollupKey(k []byte, c *Call) []byte {
	model := c.UpstreamModel
	if model == "" {
		model = c.Model
	}
	k = binary.BigEndian.AppendUint64(k, uint64(c.Time.Truncate(time.Hour).Unix()))
	k = append(append(k, c.Provider...), 0)
	k = append(append(k, model...), 0)
	k = append(append(k, rollupClient(c)...), 0)
	return strconv.AppendInt(k, int64(c.Status), 10)
}

// rollupDims splits a key into its hour and dimensions.
func rollupDims(k []byte) (hour time.Time, provider, model, client string, status int, ok bool) {
	if len(k) < 8 {
		return
	}
	parts := bytes.Split(k[8:], []byte{0})
	if len(parts) != 4 {
		return
	}
	st, err := strconv.Atoi(string(parts[3]))
	if err != nil {
		return
	}
	return time.Unix(int64(binary.BigEndian.Uint64(k)), 0), string(parts[0]), string(parts[1]), string(parts[2]), st, true
}

// histBuckets is the size of the latency histograms: bucket 0 holds 0 ms,
// bucket i ≥ 1 holds (2^((i-2)/8), 2^((i-1)/8)] ms, about 9 % wide, up to
// 2^24.75 ms (8 hours) in the last. Fixed buckets make histograms of any
// hours and dimensions mergeable by adding counts.
const histBuckets = 200

type histogram [histBuckets]uint64

func histBucket(ms int64) int {
	if ms <= 0 {
		return 0
	}
	i := 1 + int(math.Ceil(8*math.Log2(float64(ms))-1e-9))
	return min(max(i, 1), histBuckets-1)
}

// histUpper is the upper bound of bucket i in milliseconds.
func histUpper(i int) int64 {
	if i == 0 {
		return 0
	}
	return int64(math.Round(math.Exp2(float64(i-1) / 8)))
}

// percentile is the nearest-rank p-th percentile (the bucket's upper bound),
// 0 for an empty histogram.
func (h *histogram) percentile(p float64) int64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h {
		if seen += c; seen >= rank {
			return histUpper(i)
		}
	}
	return histUpper(histBuckets - 1)
}

// rollup is the usage of one hour and combination of dimensions, or of any
// merge of them.
type rollup struct {
	calls, failures, saved                    uint64
	in, out, cacheRead, cacheWrite, reasoning uint64
	costUnknown                               uint64
	cost                                      float64
	latency, firstByte                        histogram
}

func nonNeg(p *int64) uint64 {
	if p == nil || *p < 0 {
		return 0
	}
	return uint64(*p)
}

func (r *rollup) add(c *Call) {
	r.calls++
	if c.Failed() {
		r.failures++
	}
	if c.Saved() {
		r.saved++
	}
	r.in += nonNeg(c.InputTokens)
	r.out += nonNeg(c.OutputTokens)
	r.cacheRead += nonNeg(c.CacheReadTokens)
	r.cacheWrite += nonNeg(c.CacheWriteTokens)
	r.reasoning += nonNeg(c.ReasoningTokens)
	switch {
	case c.CostUSD != nil:
		r.cost += *c.CostUSD
	case !c.Failed(): // a failed call without usage was not billed: not "unpriced"
		r.costUnknown++
	}
	r.latency[histBucket(c.DurationMS)]++
	if c.TTFBMS > 0 {
		r.firstByte[histBucket(c.TTFBMS)]++
	}
}

func (r *rollup) merge(o *rollup) {
	r.calls += o.calls
	r.failures += o.failures
	r.saved += o.saved
	r.in += o.in
	r.out += o.out
	r.cacheRead += o.cacheRead
	r.cacheWrite += o.cacheWrite
	r.reasoning += o.reasoning
	r.costUnknown += o.costUnknown
	r.cost += o.cost
	for i := range r.latency {
		r.latency[i] += o.latency[i]
		r.firstByte[i] += o.firstByte[i]
	}
}

const rollupVersion = 1

func (r *rollup) encode() []byte {
	b := make([]byte, 0, 64)
	b = append(b, rollupVersion)
	for _, v := range [...]uint64{r.calls, r.failures, r.saved, r.in, r.out, r.cacheRead, r.cacheWrite, r.reasoning, r.costUnknown} {
		b = binary.AppendUvarint(b, v)
	}
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.cost))
	for _, h := range []*histogram{&r.latency, &r.firstByte} {
		n := 0
		for _, c := range h {
			if c > 0 {
				n++
			}
		}
		b = binary.AppendUvarint(b, uint64(n))
		for i, c := range h {
			if c > 0 {
				b = binary.AppendUvarint(binary.AppendUvarint(b, uint64(i)), c)
			}
		}
	}
	return b
}

var errBadRollup = errors.New("malformed usage rollup")

// decode adds the encoded rollup v to r (decoding is merging).
func (r *rollup) decode(v []byte) error { return decodeInto(v, r) }

// decodeInto adds the encoded rollup v to each of dsts, reading v once: the
// stats read tens of thousands of rollups into a total, a group and a step.
func decodeInto(v []byte, dsts ...*rollup) error {
	if len(v) == 0 || v[0] != rollupVersion {
		return errBadRollup
	}
	v = v[1:]
	next := func() uint64 {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			v = nil
			return 0
		}
		v = v[n:]
		return x
	}
	var counts [9]uint64
	for i := range counts {
		counts[i] = next()
	}
	if len(v) < 8 {
		return errBadRollup
	}
	cost := math.Float64frombits(binary.BigEndian.Uint64(v))
	v = v[8:]
	for _, r := range dsts {
		for i, p := range [...]*uint64{&r.calls, &r.failures, &r.saved, &r.in, &r.out, &r.cacheRead, &r.cacheWrite, &r.reasoning, &r.costUnknown} {
			*p += counts[i]
		}
		r.cost += cost
	}
	for h := range 2 {
		n := next()
		for range n {
			i, c := next(), next()
			if i >= histBuckets {
				return errBadRollup
			}
			for _, r := range dsts {
				if h == 0 {
					r.latency[i] += c
				} else {
					r.firstByte[i] += c
				}
			}
		}
	}
	if v == nil {
		return errBadRollup
	}
	return nil
}

// rollupBatch adds a batch of calls to their hours' rollups. The writer calls
// it in the transaction that puts the calls, so rollups and calls commit or
// fail together.
func rollupBatch(tx *bolt.Tx, out []encoded) error {
	sums := map[string]*rollup{}
	var k []byte // one key buffer: a batch's calls share a handful of keys
	for _, e := range out {
		k = appendRollupKey(k[:0], e.call)
		r := sums[string(k)]
		if r == nil {
			r = &rollup{}
			sums[string(k)] = r
		}
		r.add(e.call)
	}
	return putRollups(tx.Bucket(bucketRollups), sums)
}

// putRollups merges sums into the stored rollups.
func putRollups(b *bolt.Bucket, sums map[string]*rollup) error {
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.Sort(keys) // bbolt inserts in order without moving a page's keys
	for _, k := range keys {
		r, key := sums[k], []byte(k)
		if old := b.Get(key); old != nil {
			if err := r.decode(old); err != nil {
				return fmt.Errorf("rollup %x: %w", key, err)
			}
		}
		if err := b.Put(key, r.encode()); err != nil {
			return err
		}
	}
	return nil
}

// migrateRollups (schema 3) builds the rollups of the calls already stored.
func migrateRollups(tx *bolt.Tx) error {
	b, err := tx.CreateBucketIfNotExists(bucketRollups)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketRollups, err)
	}
	sums := map[string]*rollup{}
	err = tx.Bucket(bucketCalls).ForEach(func(k, v []byte) error {
		c, err := decodeSummary(v)
		if err != nil {
			return err
		}
		c.Time = keyTime(k) // the key's time is the call's, whatever the summary says
		key := string(rollupKey(&c))
		r := sums[key]
		if r == nil {
			r = &rollup{}
			sums[key] = r
		}
		r.add(&c)
		return nil
	})
	if err != nil {
		return err
	}
	return putRollups(b, sums)
}

// pruneRollups deletes the rollups of hours older than rollupMaxAge.
func (h *History) pruneRollups() error {
	cutoff := binary.BigEndian.AppendUint64(nil, uint64(h.now().Add(-rollupMaxAge).Unix()))
	if !h.firstBefore(bucketRollups, cutoff) { // retention.go
		return nil
	}
	return h.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRollups)
		var keys [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0 && len(keys) < pruneChunk; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			h.touch(timeKey(time.Unix(int64(binary.BigEndian.Uint64(k)), 0)))
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// replayRollups makes dst's rollups of the hours of the replayed call keys
// what src holds: a compaction's copy missed the writer's updates to them.
func replayRollups(dtx, stx *bolt.Tx, keys [][]byte) error {
	hours := map[uint64]bool{}
	for _, k := range keys {
		hours[uint64(keyTime(k).Truncate(time.Hour).Unix())] = true
	}
	d, s := dtx.Bucket(bucketRollups), stx.Bucket(bucketRollups)
	for hour := range hours {
		prefix := binary.BigEndian.AppendUint64(nil, hour)
		var stale [][]byte
		c := d.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			stale = append(stale, bytes.Clone(k))
		}
		for _, k := range stale {
			if err := d.Delete(k); err != nil {
				return err
			}
		}
		c = s.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := d.Put(bytes.Clone(k), bytes.Clone(v)); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupName is the name of a rollup's group for UsageQuery.By.
func groupName(by string, hour time.Time, provider, model, client string, status int, loc *time.Location) string {
	switch by {
	case "provider":
		return orNone(provider)
	case "model":
		return orNone(model)
	case "client":
		return orNone(client)
	case "status":
		return strconv.Itoa(status)
	case "day":
		return hour.In(loc).Format("2006-01-02")
	case "hour":
		return hour.In(loc).Format("2006-01-02 15:00")
	}
	return ""
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
