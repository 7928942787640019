package store

import (
	"testing"
	"time"
)

// TestCommitsAreSyncedAtMostOnceASecond: a commit does not wait for the disk,
// and what was committed is synced within about a second (durability.go).
func TestCommitsAreSyncedAtMostOnceASecond(t *testing.T) {
	h := openTest(t, Options{FlushInterval: 20 * time.Millisecond})
	if !h.db.NoSync {
		t.Fatal("bbolt syncs every commit (NoSync is false)")
	}
	for i := range 2 {
		h.Record(callAt(time.Now().Add(time.Duration(i)*time.Millisecond), OutcomeOK, "openai"), bodiesOf(reqBody(i), "{}"))
		h.Flush()
	}
	// The first commit synced at once (none for a second before it); the
	// second, a moment later, waits for the next second.
	if !h.dirty.Load() {
		t.Error("the second commit within a second was synced at once")
	}
	deadline := time.Now().Add(3 * time.Second)
	for h.dirty.Load() {
		if time.Now().After(deadline) {
			t.Fatal("a commit was still not synced 3 s later")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
