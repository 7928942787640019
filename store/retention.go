package store

import (
	"bytes"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// pruneChunk bounds the deletions of one transaction, so that retention never
// holds the write lock long enough to back the writer's queue up.
const pruneChunk = 2000

// Pruned reports one retention run.
type Pruned struct {
	Calls      int   `json:"calls"`       // calls deleted
	SizeBefore int64 `json:"size_before"` // file size in bytes
	SizeAfter  int64 `json:"size_after"`  // after compaction (Compact), else unchanged
}

// retentionLoop enforces MaxAge and MaxSize in the background.
func (h *History) retentionLoop() {
	defer h.done.Done()
	t := time.NewTicker(h.opts.RetentionInterval)
	defer t.Stop()
	for {
		if _, err := h.Prune(); err != nil {
			h.log.Error("history retention", "err", err)
		}
		select {
		case <-t.C:
		case <-h.stop:
			return
		}
	}
}

// Prune deletes calls older than MaxAge, then the oldest calls while the live
// data exceeds MaxSize. It works in small transactions that interleave with the
// writer's batches. The file does not shrink (bbolt reuses the freed pages);
// Compact shrinks it.
func (h *History) Prune() (Pruned, error) {
	p := h.policy.Load()
	res := Pruned{SizeBefore: h.fileSize()}
	if p.MaxAge > 0 {
		cutoff := timeKey(h.now().Add(-p.MaxAge))
		for h.firstBefore(bucketCalls, cutoff) {
			n, err := h.deleteOldest(func(k []byte) bool { return bytes.Compare(k, cutoff) < 0 }, 0)
			res.Calls += n
			if err != nil {
				return res, err
			}
			if n < pruneChunk {
				break
			}
		}
	}
	if p.MaxSize > 0 {
		for i := 0; i < 10_000; i++ {
			used, err := h.liveBytes()
			if err != nil {
				return res, err
			}
			if used <= p.MaxSize {
				break
			}
			n, err := h.deleteOldest(func([]byte) bool { return true }, used-p.MaxSize)
			res.Calls += n
			if err != nil {
				return res, err
			}
			if n == 0 {
				break
			}
		}
	}
	if err := h.pruneRollups(); err != nil { // rollup.go: rollups outlive calls, up to a limit of their own
		return res, err
	}
	res.SizeAfter = h.fileSize()
	if res.Calls > 0 {
		h.log.Info("history pruned", "calls", res.Calls, "max_age", p.MaxAge, "max_size", p.MaxSize)
	}
	return res, nil
}

// firstBefore reports whether the bucket's first key sorts before cutoff. It
// reads: retention runs a write transaction only when it has something to
// delete, for the writer waits for any write transaction, and on a busy
// machine an idle one held it up for seconds (issue 15).
func (h *History) firstBefore(bucket, cutoff []byte) bool {
	before := false
	_ = h.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucket); b != nil {
			k, _ := b.Cursor().First()
			before = k != nil && bytes.Compare(k, cutoff) < 0
		}
		return nil
	})
	return before
}

// deleteOldest deletes up to pruneChunk of the oldest calls for which del is true
// (stopping at the first false), and once their stored bytes reach budget when
// budget > 0, in a transaction of its own. It returns how many it deleted.
func (h *History) deleteOldest(del func(k []byte) bool, budget int64) (int, error) {
	n := 0
	err := h.update(func(tx *bolt.Tx) error {
		var err error
		n, err = h.deletePrefix(tx, del, budget, pruneChunk)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune history: %w", err)
	}
	return n, nil
}

// deletePrefix deletes in tx the oldest calls for which del is true (stopping
// at the first false), at most most of them, and once their stored bytes reach
// budget when budget > 0. It returns how many it deleted. The calls deleted
// are the first keys of the calls bucket, and every index (bodies, failed,
// by_provider) is in the same key order: each loses its keys up to the last
// call deleted, read from its front without looking the calls up or decoding
// them (a deletion cost as much as recording the call when it decoded each
// summary for its provider).
func (h *History) deletePrefix(tx *bolt.Tx, del func(k []byte) bool, budget int64, most int) (int, error) {
	bc := tx.Bucket(bucketBodies).Cursor()
	bk, bv := bc.First()
	var last []byte
	var freed int64
	n := 0
	c := tx.Bucket(bucketCalls).Cursor()
	for k, v := c.First(); k != nil && n < most && (budget <= 0 || freed < budget) && del(k); k, v = c.Next() {
		h.yield()
		for bk != nil && bytes.Compare(bk, k) < 0 {
			bk, bv = bc.Next()
		}
		// Key and value bytes plus bbolt's per-element overhead, in each bucket.
		freed += int64(len(k)+len(v)) + 3*32
		if bytes.Equal(bk, k) {
			freed += int64(len(bv))
		}
		h.touch(k)
		last = k
		n++
	}
	if n == 0 {
		return 0, nil
	}
	last = bytes.Clone(last)
	buckets := []*bolt.Bucket{tx.Bucket(bucketCalls), tx.Bucket(bucketBodies), tx.Bucket(bucketFailed)}
	byProvider := tx.Bucket(bucketByProvider)
	err := byProvider.ForEachBucket(func(name []byte) error {
		buckets = append(buckets, byProvider.Bucket(name))
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, b := range buckets {
		if err := h.deleteThrough(b, last); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// deleteThrough deletes b's keys up to and including last.
func (h *History) deleteThrough(b *bolt.Bucket, last []byte) error {
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, last) <= 0; k, _ = c.First() {
		h.yield()
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// liveBytes estimates the bytes the data uses: the file minus its free pages.
func (h *History) liveBytes() (int64, error) {
	var used int64
	err := h.view(func(tx *bolt.Tx) error {
		used = liveIn(tx)
		return nil
	})
	return used, err
}

func (h *History) fileSize() int64 {
	fi, err := os.Stat(h.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
