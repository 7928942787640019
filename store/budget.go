package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// The size budget is enforced when writing (issue 17): retention every minute
// let a fast writer grow the file far past max_size_mb, and bbolt never gives
// pages back. Once the live data is at the limit, each batch's transaction
// deletes about as many bytes of the oldest calls as it adds (trim), so that
// the pages it frees are reused by the next batch and the file stops growing;
// when free pages make up much of a file past its limit, the file is compacted
// online.
const (
	// trimFactor bounds the bytes one batch deletes to this many times its
	// own: a lowered limit is reached over a few batches (and by retention)
	// instead of in one long transaction.
	trimFactor = 2
	// trimReserve is the batches of room the live data keeps under the limit:
	// this one, and the free pages that the next one takes.
	trimReserve = 3
	// trimMaxCalls bounds the calls one batch deletes.
	trimMaxCalls = 2 * maxBatch
	// compactAbovePct is the file size, in % of MaxSize, past which a file whose
	// free pages are at least compactFreePct of it, and compactFreeBatches
	// batches, is compacted: the file stays within 125 % of MaxSize. Checked
	// after every batch. At the limit a batch's pages come from the ones the
	// batch before it freed, so a compacted file grows by those again: with a
	// small budget (a batch is up to a 16th of it) they and bbolt's growth step
	// near a fifth of the file, and without the floor in batches a file at
	// its steady size could be compacted every second (issue 15).
	compactAbovePct    = 110
	compactFreePct     = 20
	compactFreeBatches = 4
	// releaseEvery is how often the writer drops the pages it touched from the
	// process's resident memory (they stay in the page cache).
	releaseEvery = time.Second
)

// trim deletes in tx, the transaction that puts a batch of need bytes, the
// oldest calls that make room for it and for the next batch, so that the
// live data stays within limit and about a batch under it: the pages a
// transaction frees are reused from the next one on, so the file holds a
// batch of free pages beside the live data and stops growing there.
// Issue 15: deleting down to 80 % of the limit before the batch, in
// transactions of their own (10,000 calls at the default 512 MB), stalled
// the writer for seconds on a busy machine and its queue dropped bodies; in
// the batch's own transaction the deletions cost no commit of their own, and
// at the limit every batch deletes about what it adds.
func (h *History) trim(tx *bolt.Tx, need, limit int64) error {
	if limit <= 0 {
		return nil
	}
	del := liveIn(tx) + trimReserve*need - limit
	if del <= 0 {
		return nil
	}
	_, err := h.deletePrefix(tx, func([]byte) bool { return true }, min(del, trimFactor*need), trimMaxCalls)
	return err
}

// liveIn is the bytes the data uses as tx begins: its pages minus the free
// ones (bbolt counts them at each commit).
func liveIn(tx *bolt.Tx) int64 {
	st := tx.DB().Stats()
	return tx.Size() - int64(st.FreePageN+st.PendingPageN)*int64(tx.DB().Info().PageSize)
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
	free := size - live
	if err != nil || free*100 < size*compactFreePct || free < compactFreeBatches*w.maxBytes() || !h.compactMu.TryLock() {
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
	w.buf, w.out = nil, nil // up to a batch of bodies and its calls: not kept while idle
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
