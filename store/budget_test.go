package store

import (
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestSizeBudgetHeldWhileWriting is issue 17 at the store's level: with
// retention's minute never coming (NoRetention), a writer recording many times
// the budget keeps the file within 1.25 × MaxSize after every batch, keeps the
// newest calls, and the file stays consistent.
func TestSizeBudgetHeldWhileWriting(t *testing.T) {
	const limit = 16 << 20
	h := openTest(t, Options{MaxAge: -1, MaxSize: limit, NoRetention: true, FlushInterval: 20 * time.Millisecond})
	base := time.Now().Add(-time.Hour)
	var largest int64
	var last string
	for i := range 25_000 { // about 80 MB of bodies: five times the budget
		c := callAt(base.Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai")
		last = c.ID
		for !h.Record(c, bodiesOf(reqBody(i), padBody(3000))) {
			h.Flush()
		}
		if i%500 == 499 {
			h.Flush()
			largest = max(largest, h.fileSize())
		}
	}
	h.Flush()
	largest = max(largest, h.fileSize())
	t.Logf("largest file %d KB for a %d KB budget", largest>>10, limit>>10)
	if largest > limit*5/4 {
		t.Errorf("history.db reached %d bytes, want ≤ 1.25 × %d", largest, limit)
	}
	if d := h.Drops(); d.Calls != 0 {
		t.Errorf("%d calls dropped", d.Calls)
	}
	if _, err := h.Get(last); err != nil {
		t.Errorf("newest call: %v", err)
	}
	if err := h.Check(); err != nil {
		t.Error(err)
	}
}

// TestSizeBudgetDeletesAsItWrites is issue 15 §1 at the store's level: at
// its size budget the history deletes about as many calls as each batch adds
// (here at most two batches' worth a step), in the batch's own commit, instead
// of 20 % of the budget at once (10,000 calls at the default 512 MB, which on
// a busy machine stalled the writer for seconds and dropped bodies in the
// 10-minute soak). The file stays within its bound and nothing is dropped;
// the failed and provider indexes hold exactly the calls left, and the usage
// rollups still count every call recorded.
func TestSizeBudgetDeletesAsItWrites(t *testing.T) {
	const (
		limit = 8 << 20
		batch = 50
		steps = 200 // 10,000 calls of ~3 KB: about four times the budget
	)
	h := openTest(t, Options{MaxAge: -1, MaxSize: limit, NoRetention: true})
	base := time.Now().Add(-time.Hour)
	providers := []string{"openai", "anthropic", "gemini"}
	recorded, left, mostDeleted := 0, 0, 0
	var largest int64
	for range steps {
		for range batch {
			outcome := OutcomeOK
			if recorded%7 == 0 {
				outcome = OutcomeError
			}
			c := callAt(base.Add(time.Duration(recorded)*time.Millisecond), outcome, providers[recorded%3])
			if !h.Record(c, bodiesOf(reqBody(recorded), padBody(3000))) {
				t.Fatalf("call %d refused", recorded)
			}
			recorded++
		}
		h.Flush()
		n := bucketKeys(t, h, bucketCalls)
		mostDeleted = max(mostDeleted, left+batch-n)
		left = n
		largest = max(largest, h.fileSize())
	}
	t.Logf("%d calls recorded, %d left; at most %d deleted while writing %d; largest file %d KB for a %d KB budget",
		recorded, left, mostDeleted, batch, largest>>10, limit>>10)
	if left >= recorded {
		t.Fatalf("%d calls left of %d: the budget was never reached", left, recorded)
	}
	if most := 2*batch + 1; mostDeleted > most { // twice the batch, and the call that crosses that
		t.Errorf("a batch of %d calls deleted %d old ones, want ≤ %d (about what it adds)", batch, mostDeleted, most)
	}
	if largest > limit*5/4 {
		t.Errorf("history.db reached %d bytes, want ≤ 1.25 × %d", largest, limit)
	}
	if d := h.Drops(); d != (Drops{}) {
		t.Errorf("dropped %+v, want nothing", d)
	}
	// The indexes lost exactly the deleted calls.
	if n := checkIndexes(t, h, providers); n != left {
		t.Errorf("%d calls listed, want %d", n, left)
	}
	u, err := h.Usage(UsageQuery{From: base.Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil || u.Total.Calls != int64(recorded) {
		t.Errorf("usage counts %d calls (%v), want all %d recorded", u.Total.Calls, err, recorded)
	}
	if err := h.Check(); err != nil {
		t.Error(err)
	}
}

// A compaction while the writer deletes to make room: the calls written and
// deleted between the copy and the swap reach the new file only through the
// journal's replay, and the indexes stay exact.
func TestCompactWhileTrimming(t *testing.T) {
	h := openTest(t, Options{MaxAge: -1, MaxSize: 4 << 20, NoRetention: true, FlushInterval: 5 * time.Millisecond})
	base := time.Now().Add(-time.Hour)
	providers := []string{"openai", "anthropic", "gemini"}
	var last *Call
	record := func(i int) {
		outcome := OutcomeOK
		if i%5 == 0 {
			outcome = OutcomeError
		}
		last = callAt(base.Add(time.Duration(i)*time.Millisecond), outcome, providers[i%3])
		if !h.Record(last, bodiesOf(reqBody(i), padBody(3000))) {
			t.Errorf("call %d refused", i)
		}
	}
	for i := range 3000 { // about three times the budget: the writer is deleting
		record(i)
		if i%100 == 99 {
			h.Flush()
		}
	}
	h.Flush()
	oldest := func() string {
		p, err := h.List(Query{Limit: 100_000})
		if err != nil || len(p.Calls) == 0 {
			t.Fatalf("list: %d calls, %v", len(p.Calls), err)
		}
		return p.Calls[len(p.Calls)-1].ID
	}
	copiedOldest, lastWritten := oldest(), ""
	// The writer may start a compaction of its own (the file is over budget):
	// swap the hook under compactMu, the lock every compaction reads it
	// under, and let whichever compaction comes first run it.
	var once sync.Once
	setHook := func(f func()) func() {
		h.compactMu.Lock()
		defer h.compactMu.Unlock()
		old := afterCopy
		afterCopy = f
		return old
	}
	old := setHook(func() {
		once.Do(func() {
			for i := 3000; i < 4500; i++ {
				record(i)
				if i%100 == 99 {
					h.Flush()
				}
			}
			h.Flush()
			lastWritten = last.ID
		})
	})
	t.Cleanup(func() { setHook(old) })
	if _, err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	if lastWritten == "" {
		t.Fatal("the compaction did not run its copy")
	}
	if _, err := h.Get(copiedOldest); err == nil {
		t.Errorf("call %s, deleted after the copy, is back in the compacted file", copiedOldest)
	}
	if _, err := h.Get(lastWritten); err != nil {
		t.Errorf("call %s, written after the copy, is not in the compacted file: %v", lastWritten, err)
	}
	if n := checkIndexes(t, h, providers); n == 0 || n >= 4500 {
		t.Fatalf("%d calls left, want some deleted and some left", n)
	}
	if err := h.Check(); err != nil {
		t.Error(err)
	}
}

// checkIndexes checks that the failed and provider indexes and the bodies
// hold exactly the calls listed, and returns how many are listed.
func checkIndexes(t testing.TB, h *History, providers []string) int {
	t.Helper()
	page, err := h.List(Query{Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	wantFailed, wantProvider := 0, map[string]int{}
	for _, c := range page.Calls {
		if c.Failed() {
			wantFailed++
		}
		wantProvider[c.Provider]++
	}
	if n := bucketKeys(t, h, bucketFailed); n != wantFailed {
		t.Errorf("failed index holds %d calls, want %d", n, wantFailed)
	}
	for _, p := range providers {
		got, err := h.List(Query{Provider: p, Limit: 100_000})
		if err != nil || len(got.Calls) != wantProvider[p] {
			t.Errorf("provider %s lists %d calls (%v), want %d", p, len(got.Calls), err, wantProvider[p])
		}
	}
	if n := bucketKeys(t, h, bucketBodies); n != len(page.Calls) {
		t.Errorf("bodies of %d calls, want %d", n, len(page.Calls))
	}
	return len(page.Calls)
}

// bucketKeys counts the keys of a top-level bucket.
func bucketKeys(t testing.TB, h *History, name []byte) int {
	t.Helper()
	n := 0
	err := h.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(name).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWriterPanicLosesOnlyItsBatch: a panic in the writer (here from the
// secrets source, which the writer calls) is logged with its stack, counts the
// batch as dropped, and recording goes on; the stack is not in the history.
func TestWriterPanicLosesOnlyItsBatch(t *testing.T) {
	var log syncLog
	panicked := false
	h := openTest(t, Options{Logger: log.logger(), Secrets: func() []string {
		if !panicked {
			panicked = true
			panic("injected secrets failure")
		}
		return []string{"sk-secret-0123456789"}
	}})
	lost := callAt(time.Now(), OutcomeOK, "openai")
	h.Record(lost, bodiesOf(reqBody(1), "{}"))
	h.Flush()
	kept := callAt(time.Now(), OutcomeError, "openai")
	kept.Error = "upstream said sk-secret-0123456789"
	h.Record(kept, bodiesOf(reqBody(2), "{}"))
	h.Flush()
	if _, err := h.Get(lost.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("call of the panicking batch: %v, want ErrNotFound", err)
	}
	c, err := h.Get(kept.ID)
	if err != nil {
		t.Fatalf("call after the panic: %v", err)
	}
	if c.Error != "upstream said "+Redacted {
		t.Errorf("error after the panic = %q, want the secret redacted", c.Error)
	}
	if d := h.Drops(); d.Calls != 1 {
		t.Errorf("Drops.Calls = %d, want 1", d.Calls)
	}
	out := log.String()
	if !strings.Contains(out, "injected secrets failure") || !strings.Contains(out, "store.(*writer).commit") {
		t.Errorf("log lacks the panic and its stack:\n%s", out)
	}
}

// TestCompactSwapFailureKeepsHistoryOpen: when the compacted file cannot be
// swapped in, the history stays open on the old file with every call, and
// recording goes on (issue 19: Compact left the history closed).
func TestCompactSwapFailureKeepsHistoryOpen(t *testing.T) {
	h := openTest(t, Options{MaxAge: -1, MaxSize: -1})
	var ids []string
	for i := range 500 {
		c := callAt(time.Now().Add(time.Duration(i)*time.Microsecond), OutcomeOK, "openai")
		ids = append(ids, c.ID)
		h.Record(c, bodiesOf(reqBody(i), padBody(1000)))
	}
	h.Flush()
	renameFile = func(string, string) error { return errors.New("injected rename failure") }
	t.Cleanup(func() { renameFile = os.Rename })
	if _, err := h.Compact(); err == nil {
		t.Fatal("Compact succeeded with a failing rename")
	}
	if _, err := os.Stat(h.Path() + ".compact"); !os.IsNotExist(err) {
		t.Errorf("compacted copy left behind: %v", err)
	}
	c := callAt(time.Now().Add(time.Second), OutcomeOK, "openai")
	ids = append(ids, c.ID)
	if !h.Record(c, nil) {
		t.Fatal("Record refused after the failed compaction")
	}
	h.Flush()
	for _, id := range ids {
		if _, err := h.Get(id); err != nil {
			t.Fatalf("call %s after the failed compaction: %v", id, err)
		}
	}
}

// TestCompactSyncsFolderAfterRename: the rename is made durable by syncing the
// data folder, after the rename.
func TestCompactSyncsFolderAfterRename(t *testing.T) {
	h := openTest(t, Options{MaxAge: -1, MaxSize: -1})
	h.Record(callAt(time.Now(), OutcomeOK, "openai"), nil)
	h.Flush()
	renamed, synced := false, ""
	renameFile = func(from, to string) error { renamed = true; return os.Rename(from, to) }
	syncDir = func(dir string) error {
		if !renamed {
			t.Error("folder synced before the rename")
		}
		synced = dir
		return syncFolder(dir)
	}
	t.Cleanup(func() { renameFile, syncDir = os.Rename, syncFolder })
	if _, err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	if synced != h.dir {
		t.Errorf("synced folder %q, want %q", synced, h.dir)
	}
}

// TestOnIdleAfterABurst: OnIdle runs once when recording goes idle after
// calls, and not again until new calls come.
func TestOnIdleAfterABurst(t *testing.T) {
	var calls atomic.Int32
	h := openTest(t, Options{FlushInterval: 10 * time.Millisecond, IdleAfter: time.Second, OnIdle: func() { calls.Add(1) }})
	time.Sleep(1500 * time.Millisecond)
	if n := calls.Load(); n != 0 {
		t.Fatalf("OnIdle called %d times before any call", n)
	}
	for i := range 100 {
		h.Record(callAt(time.Now().Add(time.Duration(i)*time.Microsecond), OutcomeOK, "openai"), nil)
	}
	h.Flush()
	if n := calls.Load(); n != 0 {
		t.Fatalf("OnIdle called %d times right after calls", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("OnIdle called %d times after one burst, want 1", n)
	}
}
