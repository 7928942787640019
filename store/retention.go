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
		for {
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

// deleteOldest deletes up to pruneChunk of the oldest calls for which del is true
// (stopping at the first false), and once their stored bytes reach budget when
// budget > 0. It returns how many it deleted.
func (h *History) deleteOldest(del func(k []byte) bool, budget int64) (int, error) {
	n := 0
	err := h.update(func(tx *bolt.Tx) error {
		calls, bodies, failed := tx.Bucket(bucketCalls), tx.Bucket(bucketBodies), tx.Bucket(bucketFailed)
		byProvider := tx.Bucket(bucketByProvider)
		var keys [][]byte
		var freed int64
		c := calls.Cursor()
		for k, v := c.First(); k != nil && len(keys) < pruneChunk && del(k); k, v = c.Next() {
			if budget > 0 && freed >= budget {
				break
			}
			keys = append(keys, bytes.Clone(k))
			// Key and value bytes plus bbolt's per-element overhead, in each bucket.
			freed += int64(len(k)+len(v)+len(bodies.Get(k))) + 3*32
		}
		for _, k := range keys {
			h.touch(k)
			if v := calls.Get(k); v != nil {
				if s, err := decodeSummary(v); err == nil && s.Provider != "" {
					if b := byProvider.Bucket([]byte(s.Provider)); b != nil {
						if err := b.Delete(k); err != nil {
							return err
						}
					}
				}
			}
			for _, b := range []*bolt.Bucket{calls, bodies, failed} {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune history: %w", err)
	}
	return n, nil
}

// liveBytes estimates the bytes the data uses: the file minus its free pages.
func (h *History) liveBytes() (int64, error) {
	var used int64
	err := h.view(func(tx *bolt.Tx) error {
		st := h.db.Stats()
		used = tx.Size() - int64(st.FreePageN+st.PendingPageN)*int64(h.db.Info().PageSize)
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
