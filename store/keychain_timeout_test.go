package store

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// slowKeychain puts a keychain in keyringGet's place that answers each read
// with the secret "sk-slow-" + account once release is closed, and counts the
// reads. keychainTimeout is 50 ms meanwhile.
func slowKeychain(t *testing.T) (release chan struct{}, reads *atomic.Int32) {
	t.Helper()
	release, reads = make(chan struct{}), new(atomic.Int32)
	oldGet, oldTimeout := keyringGet, keychainTimeout
	keyringGet = func(_, account string) (string, error) {
		reads.Add(1)
		<-release
		return "sk-slow-" + account, nil
	}
	keychainTimeout = 50 * time.Millisecond
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		// Let the reads in flight end before the next test swaps keyringGet.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			keychainReads.Lock()
			n := len(keychainReads.m)
			keychainReads.Unlock()
			if n == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		keyringGet, keychainTimeout = oldGet, oldTimeout
	})
	return release, reads
}

// A keychain that answers after the timeout (Wine's Credential Manager on a
// cold prefix took over 5 s) serves its key as soon as it answers: no restart,
// no second read.
func TestKeychainSlowAnswerIsKept(t *testing.T) {
	release, reads := slowKeychain(t)
	k := NewKeys()
	var ke *KeychainError
	if err := k.Load([]string{"up"}); !errors.As(err, &ke) || !ke.Locked() {
		t.Fatalf("Load on a keychain that does not answer = %v; want the locked keychain's error", err)
	}
	if _, ok := k.Secret("up", ""); ok {
		t.Fatal("a secret before the keychain answered")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, ok := k.Secret("up", ""); ok {
			if v != "sk-slow-up" {
				t.Fatalf("secret %q; want sk-slow-up", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the keychain's late answer was thrown away: no secret 5 s after it answered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d keychain reads; want 1", n)
	}
}

// Two readers of one account at once share the read: the second is not told
// the keychain is locked because the first is still reading.
func TestKeychainConcurrentReadsShareOne(t *testing.T) {
	release, reads := slowKeychain(t)
	keychainTimeout = 5 * time.Second
	errs := make(chan error, 2)
	keys := []*Keys{NewKeys(), NewKeys()}
	for _, k := range keys {
		go func() { errs <- k.Load([]string{"up"}) }()
	}
	// Both are waiting on the backend before it answers.
	for deadline := time.Now().Add(5 * time.Second); reads.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	for range keys {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Load = %v; want both to get the key", err)
		}
	}
	for i, k := range keys {
		if v, ok := k.Secret("up", ""); !ok || v != "sk-slow-up" {
			t.Fatalf("reader %d: secret %q, %v", i, v, ok)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d keychain reads; want 1 shared", n)
	}
}

// While a read waits for an unlock past the timeout, other reads fail at once
// and start no read of their own (each would be one more unlock prompt); once
// it answers, reads work again.
func TestKeychainWaitingForUnlockFailsFast(t *testing.T) {
	release, reads := slowKeychain(t)
	k := NewKeys()
	if err := k.Load([]string{"up"}); err == nil {
		t.Fatal("Load on a keychain that does not answer succeeded")
	}
	start := time.Now()
	if err := k.Load([]string{"other"}); !errors.Is(err, ErrKeychainUnavailable) {
		t.Fatalf("second Load = %v; want the keychain unavailable", err)
	}
	if d := time.Since(start); d > 40*time.Millisecond {
		t.Fatalf("second Load waited %v behind the hung read; want at once", d)
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d keychain reads; want 1 (no prompt piled up)", n)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := k.Reload([]string{"up", "other"}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("reads still fail 5 s after the keychain answered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if k.Unavailable() != nil {
		t.Fatalf("Unavailable() = %v after a full re-read", k.Unavailable())
	}
	if v, _ := k.Secret("other", ""); v != "sk-slow-other" {
		t.Fatalf("other's secret %q", v)
	}
}

// Windows' Credential Manager never prompts: a slow read is not taken for a lock.
func TestKeychainWaitByOS(t *testing.T) {
	if keychainWait("windows") < 30*time.Second {
		t.Fatalf("Windows waits %v for the Credential Manager; a cold Wine prefix took over 5 s", keychainWait("windows"))
	}
	for _, goos := range []string{"linux", "darwin"} {
		if d := keychainWait(goos); d > 10*time.Second {
			t.Fatalf("%s waits %v for an unlock prompt nobody may answer", goos, d)
		}
	}
}
