package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// The size budget is enforced when writing (issue 17): retention every minute
// let a fast writer grow the file far past max_size_mb, and bbolt never gives
// pages back. Before each batch the oldest calls make room for it; when free
// pages make up much of a file past its limit, the file is compacted online.
const (
	// pruneTargetPct is the share of MaxSize the live data is brought down to when
	// a batch would cross MaxSize, so that the next batches fit without pruning.
	pruneTargetPct = 80
	// compactAbovePct is the file size, in % of MaxSize, past which a file whose
	// free pages are at least compactFreePct of it is compacted: the file stays
	// within 125 % of MaxSize. Checked after every batch.
	compactAbovePct = 110
	compactFreePct  = 20
	// releaseEvery is how often the writer drops the pages it touched from the
	// process's resident memory (they stay in the page cache).
	releaseEvery = time.Second
)

// makeRoom deletes the oldest calls when need more bytes would take the live
// data past limit, down to pruneTargetPct of limit minus need.
func (h *History) makeRoom(need, limit int64) error {
	for range 100 {
		live, err := h.liveBytes()
		if err != nil {
			return err
		}
		if live+need <= limit {
			return nil
		}
		n, err := h.deleteOldest(func([]byte) bool { return true }, live+need-limit*pruneTargetPct/100)
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

// upkeep runs after each batch: it releases the pages the writer touched,
// at most every releaseEvery, and starts an online compaction when the file
// has outgrown its budget with free pages.
func (w *writer) upkeep() {
	h := w.h
	if w.wrote && time.Since(w.released) >= releaseEvery {
		w.wrote, w.released = false, time.Now()
		h.mu.RLock()
		releaseAll(h.db)
		h.mu.RUnlock()
	}
	limit := h.policy.Load().MaxSize
	if limit <= 0 {
		return
	}
	size := h.fileSize()
	if size*100 <= limit*compactAbovePct {
		return
	}
	live, err := h.liveBytes()
	if err != nil || (size-live)*100 < size*compactFreePct || !h.compactMu.TryLock() {
		return
	}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		defer h.compactMu.Unlock()
		if _, err := h.compact(); err != nil {
			h.log.Error("history compaction", "err", err)
		}
	}()
}

// idle runs on the writer's tick: once recording has been idle for IdleAfter
// after a busy spell, it releases the pages the writer touched last and calls
// OnIdle.
func (w *writer) idle() {
	h := w.h
	if !w.busy || time.Since(w.lastCommit) < h.opts.IdleAfter {
		return
	}
	w.busy = false
	w.buf = nil // up to a batch of bodies: not kept while idle
	h.mu.RLock()
	releaseAll(h.db)
	h.mu.RUnlock()
	w.wrote = false
	if h.opts.OnIdle != nil {
		h.opts.OnIdle()
	}
}

// tune sizes the file's growth step to the budget: bbolt grows a large mapping
// 16 MiB at a time, a quarter of a 64 MB budget; each step costs an fsync, so
// not much smaller either. It also turns the fsync per commit off: the writer
// syncs once a second (durability.go). Call it with no transaction
// open (at open, or under the write lock).
func (h *History) tune(db *bolt.DB) {
	db.AllocSize = allocSize(h.policy.Load().MaxSize)
	db.NoSync = true
}

func allocSize(limit int64) int {
	if limit <= 0 {
		return 16 << 20
	}
	return int(min(16<<20, max(limit/16, 256<<10)))
}

// releaseAll releases the pages of the whole mapping (releasePages).
func releaseAll(db *bolt.DB) {
	_ = db.View(func(tx *bolt.Tx) error {
		releasePages(tx)
		return nil
	})
}
