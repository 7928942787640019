package store

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestPruneByAge(t *testing.T) {
	now := time.Now()
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	h := openTest(t, Options{MaxAge: 24 * time.Hour, RetentionInterval: time.Hour, Now: func() time.Time { return *clock.Load() }})
	for i := range 3000 { // 3000 calls, one per minute over ~2 days; more than one chunk old
		c := callAt(now.Add(-time.Duration(i)*time.Minute), OutcomeError, "openai")
		h.Record(c, bodiesOf(reqBody(i), "{}"))
	}
	h.Flush()
	res, err := h.Prune()
	if err != nil {
		t.Fatal(err)
	}
	wantKept := 24*60 + 1 // minute 0 .. 1440 inclusive
	if res.Calls != 3000-wantKept {
		t.Errorf("Prune deleted %d calls, want %d", res.Calls, 3000-wantKept)
	}
	p, _ := h.List(Query{Limit: 10_000})
	if len(p.Calls) != wantKept {
		t.Errorf("%d calls left, want %d", len(p.Calls), wantKept)
	}
	oldest := p.Calls[len(p.Calls)-1].Time
	if now.Sub(oldest) > 24*time.Hour+time.Second {
		t.Errorf("oldest call left is %v old, want ≤ 24h", now.Sub(oldest))
	}
	// Indexes follow: every failed and provider entry points at a live call.
	f, _ := h.List(Query{FailedOnly: true, Limit: 10_000})
	pr, _ := h.List(Query{Provider: "openai", Limit: 10_000})
	if len(f.Calls) != wantKept || len(pr.Calls) != wantKept {
		t.Errorf("failed index %d, provider index %d, want %d each", len(f.Calls), len(pr.Calls), wantKept)
	}
	_ = h.view(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketFailed).Stats().KeyN; n != wantKept {
			t.Errorf("failed bucket holds %d keys, want %d", n, wantKept)
		}
		if n := tx.Bucket(bucketBodies).Stats().KeyN; n != wantKept {
			t.Errorf("bodies bucket holds %d keys, want %d", n, wantKept)
		}
		return nil
	})
}

func TestPruneBySizeThenCompact(t *testing.T) {
	h := openTest(t, Options{MaxAge: -1, MaxSize: -1})
	base := time.Now().Add(-time.Hour)
	for i := range 4000 {
		h.Record(callAt(base.Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai"), bodiesOf(reqBody(i), padBody(3000)))
		if i%1000 == 999 {
			h.Flush()
		}
	}
	h.Flush()
	before := h.fileSize()
	h.SetPolicy(Policy{MaxAge: -1, MaxSize: 4 << 20})
	res, err := h.Prune()
	if err != nil {
		t.Fatal(err)
	}
	used, _ := h.liveBytes()
	if res.Calls == 0 || used > 4<<20 {
		t.Fatalf("Prune deleted %d calls, live data %d bytes, want some deleted and ≤ 4 MiB", res.Calls, used)
	}
	p, _ := h.List(Query{Limit: 10_000})
	if len(p.Calls) != 4000-res.Calls {
		t.Errorf("%d calls left, want %d", len(p.Calls), 4000-res.Calls)
	}
	// The newest survive.
	if p.Calls[0].Time.Before(base.Add(3999 * time.Millisecond).Truncate(time.Millisecond)) {
		t.Errorf("newest call left is from %v, want the last one recorded", p.Calls[0].Time)
	}
	after, err := h.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if after >= before {
		t.Errorf("file %d bytes after compaction, %d before, want smaller", after, before)
	}
	if err := h.Check(); err != nil {
		t.Error(err)
	}
	// Still writable after the file swap.
	c := callAt(time.Now(), OutcomeOK, "openai")
	h.Record(c, nil)
	h.Flush()
	if _, err := h.Get(c.ID); err != nil {
		t.Errorf("Get after Compact: %v", err)
	}
}

// TestMigrations opens a file left at each older schema and checks that opening
// brings it to the current one with its data intact.
func TestMigrations(t *testing.T) {
	for from := 0; from < len(migrations); from++ {
		t.Run("from schema "+string(rune('0'+from)), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := migrate(db, from); err != nil {
				t.Fatal(err)
			}
			c := callAt(time.Now(), OutcomeError, "anthropic")
			if from >= 1 {
				// A v1 file with a call in it, as a v1 writer left it.
				key, _ := keyOf(c.ID, c.Time)
				sum, _ := encodeSummary(c)
				err = db.Update(func(tx *bolt.Tx) error {
					if err := tx.Bucket(bucketCalls).Put(key, sum); err != nil {
						return err
					}
					if from >= 2 { // a v2 writer indexed it
						if err := indexProvider(tx.Bucket(bucketByProvider), c.Provider, key); err != nil {
							return err
						}
					}
					return tx.Bucket(bucketFailed).Put(key, nil)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			db.Close()

			h, err := OpenHistory(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { h.Close(); checkFile(t, path) }()
			var v uint64
			_ = h.view(func(tx *bolt.Tx) error { v = schemaVersion(tx); return nil })
			if v != uint64(len(migrations)) {
				t.Errorf("schema %d after open, want %d", v, len(migrations))
			}
			if from >= 1 {
				p, err := h.List(Query{Provider: "anthropic"})
				if err != nil || len(p.Calls) != 1 || p.Calls[0].ID != c.ID {
					t.Errorf("provider index after migration: %+v, %v; want the v1 call", p.Calls, err)
				}
				// Schema 3 builds the rollups of the calls already there.
				u, err := h.Usage(UsageQuery{By: "provider"})
				if err != nil || u.Total.Calls != 1 || u.Total.Failures != 1 || len(u.Groups) != 1 || u.Groups[0].Key != "anthropic" {
					t.Errorf("usage after migration: %+v, %v; want the old call, failed, under anthropic", u, err)
				}
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucketIfNotExists(bucketMeta)
		return m.Put(keySchema, binary.BigEndian.AppendUint64(nil, 99))
	})
	db.Close()
	_, err = OpenHistory(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("OpenHistory on schema 99: err = %v, want a 'newer than this Gatehouse' error", err)
	}
}

// TestCompactWhileRecording: calls recorded while the file is being swapped are
// all kept.
func TestCompactWhileRecording(t *testing.T) {
	h := openTest(t, Options{})
	base := time.Now().Add(-time.Minute)
	for i := range 2000 {
		h.Record(callAt(base.Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai"), bodiesOf(reqBody(i), padBody(2000)))
	}
	h.Flush()
	done := make(chan []string)
	go func() {
		var ids []string
		for i := range 1000 {
			c := callAt(time.Now().Add(time.Duration(i)*time.Microsecond), OutcomeError, "gemini")
			ids = append(ids, c.ID)
			if !h.Record(c, bodiesOf(reqBody(i), "{}")) {
				t.Errorf("call %d refused during compaction", i)
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		done <- ids
	}()
	if _, err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	ids := <-done
	h.Flush()
	for _, id := range ids {
		if _, err := h.Get(id); err != nil {
			t.Fatalf("call %s recorded during compaction: %v", id, err)
		}
	}
	p, err := h.List(Query{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Calls) != 3000 {
		t.Errorf("%d calls after compaction, want 3000", len(p.Calls))
	}
	if err := h.Check(); err != nil {
		t.Error(err)
	}
}
