package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"syscall"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Disk and file faults (issue 15 §4): a damaged history.db, a data folder that
// cannot be written, a disk that fills up. None may stop the proxy; each is
// said in words by Degraded or Notice.

// ErrCorrupt is returned (wrapped) by OpenHistory when history.db is damaged:
// not a bbolt file, another version, a bad checksum, or cut short. With
// Options.Resilient the file is moved aside instead.
var ErrCorrupt = errors.New("the history file is damaged")

// faults is the History's fault state.
type faults struct {
	mu sync.Mutex
	// fallback is why the history lives in a temporary folder ("" when not);
	// tempDir is that folder, removed at Close.
	fallback, tempDir string
	// writeErr is the last commit's error; nil once a commit succeeds again.
	writeErr error
	// notice is a one-off event the user should hear of (a damaged file moved
	// aside).
	notice string
}

// Degraded says why calls are not being recorded durably, or nil when they
// are: the disk is full or the file cannot be written (it clears by itself at
// the next commit that succeeds), or the data folder could not be written at
// start and the history lives in a temporary folder until exit.
func (h *History) Degraded() error {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	switch {
	case h.faults.writeErr != nil:
		return h.faults.writeErr
	case h.faults.fallback != "":
		return errors.New(h.faults.fallback)
	}
	return nil
}

// Notice is what happened to the history file at open that the user should
// know of ("" for nothing): a damaged history.db moved aside.
func (h *History) Notice() string {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	return h.faults.notice
}

// setWriteErr records the outcome of a commit: err nil clears the fault.
func (h *History) setWriteErr(err error) {
	if err != nil {
		err = writeFault(h.dir, err)
	}
	h.faults.mu.Lock()
	was := h.faults.writeErr
	h.faults.writeErr = err
	h.faults.mu.Unlock()
	switch {
	case err != nil && was == nil:
		h.log.Error("history degraded: calls are not being recorded (the proxy keeps serving)", "err", err)
	case err == nil && was != nil:
		h.log.Info("history recording again", "after", was.Error())
	}
}

// writeFault says in words why a commit failed.
func writeFault(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("the disk holding %s is full: calls are not being recorded until space is freed: %w", dir, err)
	case isNotWritable(err):
		return fmt.Errorf("%s cannot be written: calls are not being recorded: %w", dir, err)
	}
	return fmt.Errorf("calls are not being recorded: %w", err)
}

// isNotWritable reports an error of a folder or file that cannot be written.
func isNotWritable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC)
}

// isCorrupt reports an open error that means the file itself is damaged.
func isCorrupt(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, berrors.ErrInvalid) ||
		errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrChecksum)
}

// bbolt's meta page, as laid out on disk (go.etcd.io/bbolt/internal/common):
// a 16-byte page header, then magic, version, page size (uint32 each), flags,
// the root bucket (root pgid, sequence), the freelist pgid, the high-water
// pgid, the txid and an FNV-64a checksum of everything before it.
const (
	metaOffset      = 16
	metaMagic       = 0xED0CDAED
	metaPgidAt      = metaOffset + 40
	metaChecksumAt  = metaOffset + 56
	minPageSize     = 512
	maxProbePage    = 64 << 10
	defaultPageSize = 4096
)

// checkLength fails with ErrCorrupt when path is shorter than its own valid
// meta page says: bbolt would map the missing pages, and the first read of one
// kills the process with SIGBUS (a fault no recover catches). Other damage is
// left to bbolt's own checks; a missing or empty file is fine.
func checkLength(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // bolt.Open reports it
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil
	}
	need, ok := int64(0), false
	for _, off := range []int64{0, -1} {
		buf := make([]byte, metaChecksumAt+8)
		at := off
		if off < 0 {
			at = int64(pageSizeOf(f))
		}
		if _, err := f.ReadAt(buf, at); err != nil && !errors.Is(err, io.EOF) {
			continue
		}
		if binary.LittleEndian.Uint32(buf[metaOffset:]) != metaMagic {
			continue
		}
		sum := fnv.New64a()
		sum.Write(buf[metaOffset:metaChecksumAt])
		if sum.Sum64() != binary.LittleEndian.Uint64(buf[metaChecksumAt:]) {
			continue
		}
		pageSize := int64(binary.LittleEndian.Uint32(buf[metaOffset+8:]))
		if n := int64(binary.LittleEndian.Uint64(buf[metaPgidAt:])) * pageSize; !ok || n > need {
			need, ok = n, true
		}
	}
	if ok && st.Size() < need {
		return fmt.Errorf("%w: it is %d bytes, cut short of the %d its index needs", ErrCorrupt, st.Size(), need)
	}
	return nil
}

// pageSizeOf is the page size the first meta page names (4096 when unreadable).
func pageSizeOf(f *os.File) int {
	var b [metaOffset + 12]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		return defaultPageSize
	}
	ps := int(binary.LittleEndian.Uint32(b[metaOffset+8:]))
	if ps < minPageSize || ps > maxProbePage || ps&(ps-1) != 0 {
		return defaultPageSize
	}
	return ps
}

// guard runs fn, turning a panic or memory fault inside bbolt (a damaged page)
// into an ErrCorrupt error.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return fn()
}

// touchBuckets reads the root of every top-level bucket: a damaged root page
// fails here, at open, rather than in the first query.
func touchBuckets(db *bolt.DB) error {
	return guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
				b.Cursor().First()
				return nil
			})
		})
	})
}

// openResilient is OpenHistory's open with Options.Resilient: a damaged file
// is moved aside as history.db.corrupt-<time> and a new one started; a data
// folder that cannot be written gets a history in a temporary folder, reported
// by Degraded until exit.
func openResilient(path, dataDir string, opts *Options, f *faults) (*bolt.DB, string, error) {
	db, err := openChecked(path, dataDir)
	if err != nil && isCorrupt(err) {
		aside := path + ".corrupt-" + opts.Now().UTC().Format("20060102T150405Z")
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, "", fmt.Errorf("%w (moving it aside failed: %v)", err, rerr)
		}
		f.notice = fmt.Sprintf("history.db was damaged (%v): it was moved aside as %s and a new, empty history was started", err, aside)
		opts.Logger.Error("history file damaged: moved aside, a new one started", "file", path, "moved_to", aside, "err", err)
		db, err = openChecked(path, dataDir)
	}
	if err == nil || !isNotWritable(err) {
		return db, path, err
	}
	tmp, terr := os.MkdirTemp("", "gatehouse-history-")
	if terr != nil {
		return nil, "", fmt.Errorf("%w (and no temporary folder: %v)", err, terr)
	}
	f.tempDir = tmp
	f.fallback = fmt.Sprintf("the data folder %s cannot be written (%v): calls are recorded in a temporary file until Gatehouse exits", dataDir, errors.Unwrap(err))
	opts.Logger.Error("history degraded: data folder not writable, recording to a temporary file until exit (the proxy keeps serving)", "data", dataDir, "err", err, "temp", tmp)
	tpath := tmp + string(os.PathSeparator) + FileName
	db, err = openChecked(tpath, tmp)
	return db, tpath, err
}

// openChecked is openDB after checkLength, with faults inside bbolt turned
// into ErrCorrupt and the bucket roots read once.
func openChecked(path, dataDir string) (*bolt.DB, error) {
	if err := checkLength(path); err != nil {
		return nil, fmt.Errorf("open history %q: %w", path, err)
	}
	var db *bolt.DB
	err := guard(func() error {
		var err error
		db, err = openDB(path, dataDir)
		return err
	})
	if err != nil {
		if db != nil {
			db.Close()
		}
		if isCorrupt(err) && !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err) // bbolt's own: invalid database, version mismatch, checksum
		}
		return nil, err
	}
	if err := touchBuckets(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %q: %w", path, err)
	}
	return db, nil
}

// Health is the history's fault state in words, for the health endpoint, the
// app and the history command.
type Health struct {
	// Degraded is why calls are not being recorded durably ("" when they are).
	Degraded string `json:"degraded,omitempty"`
	// Notice is what happened to the file at open (a damaged file moved aside).
	Notice string `json:"notice,omitempty"`
}

// Health returns Degraded and Notice together.
func (h *History) Health() Health {
	var out Health
	if err := h.Degraded(); err != nil {
		out.Degraded = err.Error()
	}
	out.Notice = h.Notice()
	return out
}
