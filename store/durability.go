package store

import "time"

// Durability (issue 12). The history promises that a crash of Gatehouse
// (kill -9, a panic, the OS killing it) loses no call that finished more than a
// second before: the writer commits every FlushInterval, and a commit is in the
// kernel's page cache, which outlives the process. Power loss is another
// matter: bbolt's fsync per commit made every commit wait for the disk, which
// on a laptop under load took the writer's time and let its queue grow by
// seconds of calls. So commits do not sync (bbolt's NoSync); the writer syncs
// the file at most once every syncEvery, and on Close. A power cut loses at
// most the calls of the last syncEvery and the pages the kernel had not
// written yet (HISTORY in README.md says so).
const syncEvery = time.Second

// markDirty notes a commit the disk may not have yet.
func (h *History) markDirty() { h.dirty.Store(true) }

// syncIfDue makes the commits so far durable when the last sync is syncEvery
// old; force syncs whatever the time (Close). It runs on the writer goroutine.
func (w *writer) syncIfDue(force bool) {
	h := w.h
	if !h.dirty.Load() || (!force && time.Since(w.synced) < syncEvery) {
		return
	}
	h.dirty.Store(false)
	w.synced = time.Now()
	h.mu.RLock()
	err := h.db.Sync()
	h.mu.RUnlock()
	if err != nil {
		h.dirty.Store(true)
		h.log.Error("history: sync to disk", "err", err)
	}
}
