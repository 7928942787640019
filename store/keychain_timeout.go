package store

import (
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// keychainTimeout bounds the wait for one keychain read. A locked gnome-keyring
// asks its prompter to unlock and go-keyring waits for the answer: with no one
// to type the password (no display, a locked screen) that wait has no end
// (issue 15 §4). Windows' Credential Manager has no lock and never prompts:
// there a slow answer is only slowness (a cold Wine prefix took over 5 s), so
// it gets a minute.
var keychainTimeout = keychainWait(runtime.GOOS)

func keychainWait(goos string) time.Duration {
	if goos == "windows" {
		return time.Minute
	}
	return 5 * time.Second
}

// keyringGet is the backend's read; the tests put a slow keychain in its place.
var keyringGet = keyring.Get

// errKeychainWaiting is a read that outlasted keychainTimeout.
var errKeychainWaiting = errors.New("the keychain did not answer: it is waiting to be unlocked")

// keychainRead is one backend read in flight. Callers asking for the same
// account join it rather than start another.
type keychainRead struct {
	started time.Time
	done    chan struct{} // closed once v and err are set
	v       string
	err     error
}

// keychainReads are the reads in flight, by account.
var keychainReads = struct {
	sync.Mutex
	m map[string]*keychainRead
}{m: map[string]*keychainRead{}}

// startKeychainRead returns account's read in flight, or starts one. It returns
// nil while another read has been waiting longer than keychainTimeout: the
// keychain is waiting for an unlock, and every read piled up behind it would
// be one more prompt.
func startKeychainRead(account string) *keychainRead {
	keychainReads.Lock()
	defer keychainReads.Unlock()
	if r := keychainReads.m[account]; r != nil {
		return r
	}
	for _, r := range keychainReads.m {
		if time.Since(r.started) >= keychainTimeout {
			return nil
		}
	}
	r := &keychainRead{started: time.Now(), done: make(chan struct{})}
	keychainReads.m[account] = r
	go func() {
		keychainMu.Lock()
		keepDBusFromLaunching()
		r.v, r.err = keyringGet(KeychainService, account)
		keychainMu.Unlock()
		keychainReads.Lock()
		delete(keychainReads.m, account)
		keychainReads.Unlock()
		close(r.done)
	}()
	return r
}

// keychainGet is keyring.Get bounded by keychainTimeout. A read that outlasts
// it goes on in the background: pending is that read (nil otherwise), for the
// caller to take its answer when it comes (Keys.read).
func keychainGet(account string) (v string, pending *keychainRead, err error) {
	r := startKeychainRead(account)
	if r == nil {
		return "", nil, errKeychainWaiting
	}
	t := time.NewTimer(keychainTimeout - time.Since(r.started))
	defer t.Stop()
	select {
	case <-r.done:
		return r.v, nil, r.err
	case <-t.C:
		return "", r, errKeychainWaiting
	}
}
