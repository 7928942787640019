package store

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"
)

// keychainTimeout bounds one keychain read. A locked gnome-keyring asks its
// prompter to unlock and go-keyring waits for the answer: with no one to type
// the password (no display, a locked screen) that wait has no end (issue 15 §4).
const keychainTimeout = 5 * time.Second

// errKeychainWaiting is a read that outlasted keychainTimeout.
var errKeychainWaiting = errors.New("the keychain did not answer: it is waiting to be unlocked")

// keychainReading is set while a read runs: a read still waiting for an unlock
// prompt makes the next ones fail at once instead of piling up behind it.
var keychainReading atomic.Bool

// keychainGet is keyring.Get bounded by keychainTimeout.
func keychainGet(account string) (string, error) {
	if !keychainReading.CompareAndSwap(false, true) {
		return "", errKeychainWaiting
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer keychainReading.Store(false)
		keychainMu.Lock()
		v, err := keyring.Get(KeychainService, account)
		keychainMu.Unlock()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(keychainTimeout):
		return "", errKeychainWaiting
	}
}
