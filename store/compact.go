package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Seams for the tests: the rename that swaps the compacted file in, the folder
// sync that makes the rename durable, and the moment between copy and swap.
var (
	renameFile = os.Rename
	syncDir    = syncFolder
	// afterCopy runs once the copy is done, before the swap: what is written
	// then reaches the new file only by the journal's replay.
	afterCopy = func() {}
)

// journal records the keys of the calls written or deleted while a compaction
// copies the file, so that only those are copied again at the swap.
type journal struct {
	mu     sync.Mutex
	keys   [][]byte
	copied chan struct{} // closed once the copy is done
	until  time.Time     // how long the writer may wait for copied
}

// copyWait is the longest the writer holds its batches back while a
// compaction copies: writes meanwhile cannot reuse pages (the copy's snapshot
// holds them) and would grow the file. With the swap, recording pauses well
// under a second.
const copyWait = 500 * time.Millisecond

// waitCopy holds the writer back while a compaction copies, up to copyWait.
func (h *History) waitCopy() {
	j := h.journal.Load()
	if j == nil {
		return
	}
	t := time.NewTimer(time.Until(j.until))
	defer t.Stop()
	select {
	case <-j.copied:
	case <-t.C:
	}
}

// touch notes that key changed; it is a no-op when no compaction runs. Call it
// inside the write transaction (under h.mu's read lock), so that the swap,
// which holds the write lock, sees every change the copy missed. It keeps a
// copy of key (a key read from the file is valid only in its transaction).
func (h *History) touch(key []byte) {
	j := h.journal.Load()
	if j == nil {
		return
	}
	j.mu.Lock()
	j.keys = append(j.keys, bytes.Clone(key))
	j.mu.Unlock()
}

// Compact rewrites the file without its free pages and swaps it in. The copy is
// made from a snapshot while recording and reading go on; only the calls
// written or deleted meanwhile are copied again, under the write lock, so
// recording pauses for that replay and the rename (milliseconds), not for the
// copy. Acknowledged calls are never lost: if the swap fails, the old file stays
// open. It returns the file's size afterwards.
// A Compact called while another runs waits for it, then compacts again.
func (h *History) Compact() (int64, error) {
	h.compactMu.Lock()
	defer h.compactMu.Unlock()
	return h.compact()
}

// compact is Compact with compactMu held.
func (h *History) compact() (int64, error) {
	if h.closing.Load() {
		return 0, errors.New("compact history: history is closed")
	}
	start := time.Now()
	tmp := h.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout, NoSync: true, FreelistType: bolt.FreelistMapType, InitialMmapSize: initialMmapSize, PageSize: pageSize})
	if err != nil {
		return 0, fmt.Errorf("compact history: %w", err)
	}
	discard := func(err error) (int64, error) {
		dst.Close()
		os.Remove(tmp)
		return 0, fmt.Errorf("compact history: %w", err)
	}
	// Start the journal with no transaction in flight: every write that the
	// snapshot below misses is then journalled.
	j := &journal{copied: make(chan struct{}), until: time.Now().Add(copyWait)}
	h.mu.Lock()
	h.journal.Store(j)
	h.mu.Unlock()
	defer h.journal.Store(nil)

	h.mu.RLock()
	h.tune(dst)
	err = h.db.View(func(tx *bolt.Tx) error { return copyAll(dst, tx, copyTxBytes) })
	h.mu.RUnlock()
	close(j.copied)
	afterCopy()
	if err == nil {
		err = dst.Sync()
	}
	if err != nil {
		return discard(err)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	paused := time.Now()
	dst.NoSync = false // the replay's commit syncs what it adds
	if err := replay(dst, h.db, j.keys); err != nil {
		return discard(err)
	}
	db, err := h.swap(dst, tmp)
	if db != nil {
		h.db = db
		h.tune(db)
	}
	if err != nil {
		return discard(err)
	}
	releaseAll(db)
	size := h.fileSize()
	h.log.Info("history compacted", "size", size, "took", time.Since(start), "paused", time.Since(paused), "replayed", len(j.keys))
	return size, nil
}

// swap renames the compacted file over the history file and returns the
// database to use from now on, or nil to keep the current one. On Unix the
// compacted file stays open across the rename, so a failed rename changes
// nothing. Windows cannot rename an open file: both are closed first and the
// file is reopened; if the rename failed, the old file (which holds everything:
// the writer waits meanwhile) is what reopens.
func (h *History) swap(dst *bolt.DB, tmp string) (*bolt.DB, error) {
	if runtime.GOOS != "windows" {
		if err := renameFile(tmp, h.path); err != nil {
			return nil, err
		}
		if err := syncDir(h.dir); err != nil {
			h.log.Warn("history compacted but its folder not synced", "err", err)
		}
		if err := h.db.Close(); err != nil {
			h.log.Warn("close the history file replaced by compaction", "err", err)
		}
		return dst, nil
	}
	_ = dst.Close()
	_ = h.db.Close()
	renameErr := renameFile(tmp, h.path)
	if renameErr == nil {
		_ = syncDir(h.dir)
	}
	var err error
	for try := range 5 { // a virus scanner may hold the file for a moment
		var db *bolt.DB
		if db, err = openDB(h.path, h.dir); err == nil {
			return db, renameErr
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	return nil, fmt.Errorf("reopen history after compaction: %w", err)
}

// copyTxBytes is how much a compaction copies per transaction: each one's
// pages are built in memory before they are written, and the process must stay
// small while it compacts (issue 17).
const copyTxBytes = 4 << 20

// copyAll copies every bucket of src into dst, committing every txMax bytes.
// Unlike bolt.Compact it commits before src's transaction ends: the values it
// puts point into src's mapping, whose pages a concurrent writer may reuse once
// no transaction holds them.
func copyAll(dst *bolt.DB, src *bolt.Tx, txMax int64) (err error) {
	tx, err := dst.Begin(true)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var size int64
	var walk func(path [][]byte, sb *bolt.Bucket) error
	walk = func(path [][]byte, sb *bolt.Bucket) error {
		db, err := bucketPath(tx, path, sb.Sequence())
		if err != nil {
			return err
		}
		c := sb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil { // a nested bucket
				if err := walk(append(path[:len(path):len(path)], k), sb.Bucket(k)); err != nil {
					return err
				}
				if db, err = bucketPath(tx, path, sb.Sequence()); err != nil {
					return err
				}
				continue
			}
			if size += int64(len(k) + len(v)); size > txMax {
				if err := tx.Commit(); err != nil {
					return err
				}
				// What was copied is not read again: keep neither file's
				// pages in the process's resident memory (issue 17).
				releasePages(src)
				releaseAll(dst)
				if tx, err = dst.Begin(true); err != nil {
					return err
				}
				if db, err = bucketPath(tx, path, sb.Sequence()); err != nil {
					return err
				}
				size = 0
			}
			if err := db.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	}
	err = src.ForEach(func(name []byte, b *bolt.Bucket) error {
		return walk([][]byte{name}, b)
	})
	if err != nil {
		return err
	}
	return tx.Commit()
}

// bucketPath opens (creating) the nested bucket at path in tx, filled densely:
// the copy inserts in key order.
func bucketPath(tx *bolt.Tx, path [][]byte, seq uint64) (*bolt.Bucket, error) {
	b, err := tx.CreateBucketIfNotExists(path[0])
	for _, name := range path[1:] {
		if err != nil {
			break
		}
		b, err = b.CreateBucketIfNotExists(name)
	}
	if err != nil {
		return nil, err
	}
	b.FillPercent = 1.0
	return b, b.SetSequence(seq)
}

// replay makes dst hold what src holds for each key: the call's summary, bodies,
// failed mark and provider index entry, or nothing when src deleted it.
func replay(dst, src *bolt.DB, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	return src.View(func(stx *bolt.Tx) error {
		return dst.Update(func(dtx *bolt.Tx) error {
			for _, k := range keys {
				if err := replayKey(dtx, stx, k); err != nil {
					return err
				}
			}
			return replayRollups(dtx, stx, keys)
		})
	})
}

func replayKey(dtx, stx *bolt.Tx, k []byte) error {
	dCalls := dtx.Bucket(bucketCalls)
	if old := dCalls.Get(k); old != nil {
		if err := unindexProvider(dtx.Bucket(bucketByProvider), old, k); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{bucketCalls, bucketBodies, bucketFailed} {
		d := dtx.Bucket(name)
		v := stx.Bucket(name).Get(k)
		var err error
		if v == nil {
			err = d.Delete(k)
		} else {
			err = d.Put(k, bytes.Clone(v))
		}
		if err != nil {
			return err
		}
	}
	if v := stx.Bucket(bucketCalls).Get(k); v != nil {
		s, err := decodeSummary(v)
		if err != nil {
			return err
		}
		return indexProvider(dtx.Bucket(bucketByProvider), s.Provider, k)
	}
	return nil
}

// unindexProvider removes key from the provider index of the summary v.
func unindexProvider(idx *bolt.Bucket, v, key []byte) error {
	s, err := decodeSummary(v)
	if err != nil || s.Provider == "" {
		return nil // an unreadable summary has no index entry to find
	}
	if b := idx.Bucket([]byte(s.Provider)); b != nil {
		return b.Delete(key)
	}
	return nil
}

// syncFolder makes a rename in dir durable. Windows cannot sync a folder; NTFS
// journals renames itself.
func syncFolder(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
