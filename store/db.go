package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the history file's name in the data folder.
const FileName = "history.db"

// pageSize is the page size of a new history file (an existing file keeps its
// own until compacted): bbolt writes each dirty page with a syscall of its
// own, and at 4 KiB those made a fifth of the writer's CPU (issue 12;
// BenchmarkWriterPerCall 15 → 12 µs per call).
const pageSize = 16 << 10

// lockTimeout bounds the wait for the file lock: a second instance must fail
// within 2 s (issue 3) instead of hanging.
const lockTimeout = time.Second

// Bucket names; the layout is drawn in the package doc.
var (
	bucketMeta       = []byte("meta")
	bucketCalls      = []byte("calls")
	bucketBodies     = []byte("bodies")
	bucketFailed     = []byte("failed")
	bucketByProvider = []byte("by_provider")
	keySchema        = []byte("schema")
)

// Options configure a History. Zero values mean the documented defaults.
type Options struct {
	// BodyCap caps each stored body and the raw events; longer ones are cut and
	// marked truncated. Default 1 MiB.
	BodyCap int
	// MaxAge drops calls older than this. Default 30 days; negative: keep forever.
	MaxAge time.Duration
	// MaxSize caps the live data in the file, in bytes. Default 512 MiB;
	// negative: no cap.
	MaxSize int64
	// QueueSize is how many calls may wait for the writer. Default 16384.
	QueueSize int
	// QueueBytes is how many body bytes may wait for the writer; past half of it
	// new calls are queued without bodies. Default 64 MiB: when the writer falls
	// behind (a saturated CPU, a slow disk), this is what the history may add to
	// the process's memory (issue 17), and a batch of that many bodies doubles
	// it while it is encoded and committed. 32 MiB dropped bodies when 1,000
	// streams ended together (issue 15 §1); 128 MiB took serve past its 300 MB
	// bound with 100 concurrent 10 MiB requests (issue 15 §2).
	QueueBytes int64
	// FlushInterval is the longest a recorded call waits before its batch is
	// committed. Default 200 ms.
	FlushInterval time.Duration
	// RetentionInterval is how often retention runs in the background, the first
	// time right after opening. Default 1 minute.
	RetentionInterval time.Duration
	// NoRetention turns background retention off: short-lived opens (the history
	// command) prune only when asked, through Prune.
	NoRetention bool
	// Secrets returns the provider secrets whose literal values are redacted. It
	// is called from the writer goroutine (never on the request path) at most once
	// per SecretsRefresh. Nil: header and URL redaction only.
	Secrets func() []string
	// SecretsRefresh is how often Secrets is asked again. Default 2 s.
	SecretsRefresh time.Duration
	// OnIdle is called from the writer once recording has been idle for
	// IdleAfter after a busy spell; the caller may give memory back to the OS
	// there (debug.FreeOSMemory): the Go heap a burst grew otherwise stays
	// resident for minutes. The writer's own mapped pages are released anyway.
	OnIdle func()
	// IdleAfter is how long without calls counts as idle. Default 30 s: the
	// heap given back must be faulted in again when calls resume, and on a VM a
	// fault costs ~16 µs, so bursts a few seconds apart paid 14 µs a call to
	// regrow it (issue 12). 30 s stays well inside issue 17's minute.
	IdleAfter time.Duration
	// Logger receives drop and retention reports. Nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock for retention and stats. Nil: time.Now.
	Now func() time.Time
	// Resilient is the running instance's open (fault.go): a damaged
	// history.db is moved aside and replaced, and a data folder that cannot be
	// written gets a temporary history; Notice and Degraded say so. Without
	// it (the history command) those are errors: ErrCorrupt for a damaged file.
	Resilient bool
}

func (o *Options) setDefaults() {
	if o.BodyCap <= 0 {
		o.BodyCap = 1 << 20
	}
	if o.MaxAge == 0 {
		o.MaxAge = 30 * 24 * time.Hour
	}
	if o.MaxSize == 0 {
		o.MaxSize = 512 << 20
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 16384
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = 64 << 20
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = time.Minute
	}
	if o.SecretsRefresh <= 0 {
		o.SecretsRefresh = 2 * time.Second
	}
	if o.IdleAfter <= 0 {
		o.IdleAfter = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Policy is the part of Options that a config reload may change.
type Policy struct {
	BodyCap int
	MaxAge  time.Duration
	MaxSize int64
}

// History is the call history. It is safe for concurrent use.
type History struct {
	path string
	dir  string
	log  *slog.Logger
	now  func() time.Time
	opts Options

	// mu guards db: every transaction holds it for reading; Compact swaps the
	// file under the write lock.
	mu sync.RWMutex
	db *bolt.DB

	policy atomic.Pointer[Policy]

	queue                       chan pending
	queuedBytes                 atomic.Int64
	flushReq                    chan chan struct{}
	kick                        chan struct{} // the queue is filling: commit now
	droppedCalls, droppedBodies atomic.Uint64
	dirty                       atomic.Bool // committed since the last sync
	txYield                     time.Time   // yield.go; under bbolt's write lock

	feed feed

	faults faults // disk and file faults (fault.go)

	compactMu sync.Mutex              // one Compact at a time
	journal   atomic.Pointer[journal] // keys changed during a compaction's copy

	stop    chan struct{}
	done    sync.WaitGroup
	closing atomic.Bool // Close has begun: Record refuses
	closeMu sync.Mutex
	closed  bool
}

// OpenHistory opens (creating if needed) dataDir/history.db, migrates it to the
// current schema and starts the writer and the background retention. When another
// process holds the file it returns an error wrapping ErrAlreadyRunning within
// about a second.
func OpenHistory(dataDir string, opts Options) (*History, error) {
	opts.setDefaults()
	path := filepath.Join(dataDir, FileName)
	var (
		db  *bolt.DB
		f   faults
		err error
	)
	if opts.Resilient {
		db, path, err = openResilient(path, dataDir, &opts, &f)
	} else {
		db, err = openChecked(path, dataDir)
	}
	if err != nil {
		if f.tempDir != "" {
			os.RemoveAll(f.tempDir)
		}
		return nil, err
	}
	db.AllocSize = allocSize(opts.MaxSize)
	if err := guard(func() error { return migrate(db, len(migrations)) }); err != nil {
		db.Close()
		if f.tempDir != "" {
			os.RemoveAll(f.tempDir)
		}
		return nil, fmt.Errorf("open history %q: %w", path, err)
	}
	h := &History{
		path:     path,
		dir:      filepath.Dir(path),
		log:      opts.Logger,
		now:      opts.Now,
		opts:     opts,
		db:       db,
		queue:    make(chan pending, opts.QueueSize),
		flushReq: make(chan chan struct{}),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	h.faults.fallback, h.faults.tempDir, h.faults.notice = f.fallback, f.tempDir, f.notice
	h.policy.Store(&Policy{BodyCap: opts.BodyCap, MaxAge: opts.MaxAge, MaxSize: opts.MaxSize})
	h.tune(db)
	h.done.Add(1)
	go h.writeLoop()
	if !opts.NoRetention {
		h.done.Add(1)
		go h.retentionLoop()
	}
	return h, nil
}

func openDB(path, dataDir string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      lockTimeout,
		FreelistType: bolt.FreelistMapType,
		// Each growth of the mapping makes the committing writer copy every dirty
		// node (bbolt's remap): that dominated the writer's time in
		// BenchmarkRecordFlood. Reserve address space (not memory) up front.
		InitialMmapSize: initialMmapSize,
		PageSize:        pageSize,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w with data folder %s (close it, or use another --data folder)", ErrAlreadyRunning, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("open history %q: %w", path, err)
	}
	// bolt.Open keeps the mode of an existing file: make sure it is private.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %q: %w", path, err)
	}
	return db, nil
}

// Path is the history file's path.
func (h *History) Path() string { return h.path }

// SetPolicy applies new caps and retention limits (a config reload).
func (h *History) SetPolicy(p Policy) {
	d := Options{BodyCap: p.BodyCap, MaxAge: p.MaxAge, MaxSize: p.MaxSize}
	d.setDefaults()
	h.policy.Store(&Policy{BodyCap: d.BodyCap, MaxAge: d.MaxAge, MaxSize: d.MaxSize})
}

// Close flushes the queue, stops the background work and closes the file.
func (h *History) Close() error {
	h.closeMu.Lock()
	if h.closed {
		h.closeMu.Unlock()
		return nil
	}
	h.closed = true
	h.closing.Store(true)
	h.closeMu.Unlock()
	close(h.stop)
	h.done.Wait()
	h.feed.closeAll()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dirty.Load() {
		if err := h.db.Sync(); err != nil {
			h.log.Error("history: sync to disk", "err", err)
		}
	}
	err := h.db.Close()
	if h.faults.tempDir != "" {
		os.RemoveAll(h.faults.tempDir)
	}
	if err != nil {
		return fmt.Errorf("close history %q: %w", h.path, err)
	}
	return nil
}

// view runs fn in a read transaction.
func (h *History) view(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.db.View(fn)
}

// update runs fn in a write transaction; the commit reaches the disk within
// syncEvery (durability.go).
func (h *History) update(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	err := h.db.Update(fn)
	h.markDirty()
	return err
}

// Check runs bbolt's consistency check over the whole file. It holds the write
// lock meanwhile: bbolt's check reads the freelist unguarded, so a concurrent
// commit would make it report false errors (and race).
func (h *History) Check() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	tx, err := h.db.Begin(true)
	if err != nil {
		return fmt.Errorf("check history %q: %w", h.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	for err := range tx.Check() {
		return fmt.Errorf("history %q is inconsistent: %w", h.path, err)
	}
	return nil
}

// migration brings the file from schema to-1 to schema to. Migrations run in
// order, each in its own transaction with the version bump.
type migration struct {
	to   uint64
	name string
	fn   func(tx *bolt.Tx) error
}

var migrations = []migration{
	{1, "create calls, bodies and failed buckets", migrateBase},
	{2, "index calls by provider", migrateProviderIndex},
	{3, "hourly usage rollups", migrateRollups}, // rollup.go
}

func migrateBase(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketCalls, bucketBodies, bucketFailed} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

func migrateProviderIndex(tx *bolt.Tx) error {
	idx, err := tx.CreateBucketIfNotExists(bucketByProvider)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketByProvider, err)
	}
	index := providerIndex{parent: idx}
	return tx.Bucket(bucketCalls).ForEach(func(k, v []byte) error {
		c, err := decodeSummary(v)
		if err != nil {
			return err
		}
		return index.add(c.Provider, k)
	})
}

// schemaVersion reads the file's schema version (0 for a new file).
func schemaVersion(tx *bolt.Tx) uint64 {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return 0
	}
	v := m.Get(keySchema)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// migrate applies the first upTo migrations that the file lacks.
func migrate(db *bolt.DB, upTo int) error {
	var current uint64
	if err := db.View(func(tx *bolt.Tx) error { current = schemaVersion(tx); return nil }); err != nil {
		return err
	}
	if current > uint64(len(migrations)) {
		return fmt.Errorf("schema version %d is newer than this Gatehouse knows (%d): upgrade Gatehouse", current, len(migrations))
	}
	for _, m := range migrations[:upTo] {
		if m.to <= current {
			continue
		}
		err := db.Update(func(tx *bolt.Tx) error {
			if err := m.fn(tx); err != nil {
				return err
			}
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			return meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, m.to))
		})
		if err != nil {
			return fmt.Errorf("migrate to schema %d (%s): %w", m.to, m.name, err)
		}
	}
	return nil
}
