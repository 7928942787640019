package store

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	"github.com/zalando/go-keyring"
)

// Keychain layout: every secret lives in the OS keychain (macOS Keychain, Windows
// Credential Manager, Secret Service on Linux) under service KeychainService.
// The account is the provider name for its main key, and "name:field" for the
// other parts of a multi-part credential ("mygw:secret" for an aksk pair,
// "corp:password" for basic). Provider names are [a-z0-9-]+, so ":" never clashes.
const KeychainService = "gatehouse"

// MaxSecretBytes is the largest secret Set accepts: Windows' limit (2560 bytes),
// the smallest of the three platforms, so a key stored on one machine can be
// stored on any other.
const MaxSecretBytes = 2560

// ErrKeychainUnavailable is returned (wrapped in a *KeychainError) when no
// keychain can be used: no D-Bus session, no Secret Service, a locked collection.
var ErrKeychainUnavailable = errors.New("keychain unavailable")

// ErrSecretTooBig is returned by Set for a secret over MaxSecretBytes or one the
// platform's keychain refused as too large.
var ErrSecretTooBig = errors.New("secret too large for the keychain")

// KeychainError explains why the keychain cannot be used and how to fix it. Its
// message never contains a secret. It matches ErrKeychainUnavailable with errors.Is.
type KeychainError struct {
	Reason string // what is missing
	Fix    string // what the user can do
	Err    error  // the backend's error
}

func (e *KeychainError) Error() string {
	return e.Reason + ": " + e.Fix
}

func (e *KeychainError) Unwrap() []error { return []error{ErrKeychainUnavailable, e.Err} }

// Locked reports a keychain that exists but is locked: unlocking it is the fix,
// so it is worth trying again later (issue 15 §4).
func (e *KeychainError) Locked() bool { return strings.HasPrefix(e.Reason, reasonLocked) }

// envFix ends every KeychainError.Fix: a key in the environment works without a keychain.
const envFix = "or set the provider's key_env variable (e.g. OPENAI_API_KEY) instead"

// The reasons a keychain cannot be used, worded the same on every OS.
const (
	reasonLocked = "the keychain is locked"
	reasonAbsent = "there is no login keychain"
)

// explainKeychain turns a backend error other than go-keyring's two sentinels into
// a *KeychainError. go-keyring types only ErrNotFound and ErrSetDataTooBig, so the
// reasons are told apart by the texts measured in PLATFORM.md (Linux) and by the
// exit status of macOS's /usr/bin/security (explainSecurityExit).
func explainKeychain(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if e := explainSecurityExit(exit.ExitCode(), err); e != nil {
			return e
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "dbus-launch") || strings.Contains(msg, "DBUS_SESSION_BUS_ADDRESS") ||
		strings.Contains(msg, noSessionBus) ||
		strings.Contains(msg, "session bus"):
		return &KeychainError{Reason: "no D-Bus session bus, so no keychain",
			Fix: "run Gatehouse inside a desktop session (or dbus-run-session) with gnome-keyring or KWallet unlocked, " + envFix, Err: err}
	case strings.Contains(msg, "org.freedesktop.secrets"):
		return &KeychainError{Reason: "no Secret Service found on D-Bus",
			Fix: "install and unlock gnome-keyring or KWallet, " + envFix, Err: err}
	case strings.Contains(msg, "unlock") || strings.Contains(msg, "locked"):
		return &KeychainError{Reason: reasonLocked,
			Fix: "unlock your login keyring (log in to the desktop, or gnome-keyring-daemon --unlock), " + envFix, Err: err}
	}
	return &KeychainError{Reason: "the keychain cannot be used (" + msg + ")",
		Fix: "check that your OS keychain is running and unlocked, " + envFix, Err: err}
}

// explainSecurityExit explains an exit status of /usr/bin/security, the only
// go-keyring backend that runs a program (macOS). go-keyring keeps the tool's
// output only to spot "could not be found" (ErrNotFound) and returns a bare
// "exit status N" otherwise; N is the low byte of the Security framework's
// OSStatus (errSecItemNotFound -25300 exits 44, errSecInteractionNotAllowed
// -25308 exits 36, as reported for SSH and CI sessions). It returns nil for a
// status it does not know. Statuses of `security -i` (Set) follow the same rule
// only as far as the tool's interactive mode passes them through; an unknown one
// gets explainKeychain's general message.
func explainSecurityExit(code int, err error) error {
	const unlock = "unlock your login keychain (log in at the Mac, or run security unlock-keychain ~/Library/Keychains/login.keychain-db in a terminal), "
	switch code {
	case 36: // errSecInteractionNotAllowed: locked, and no window to ask for the password (SSH, launchd)
		return &KeychainError{Reason: reasonLocked, Fix: unlock + envFix, Err: err}
	case 51: // errSecAuthFailed: the unlock password was refused
		return &KeychainError{Reason: reasonLocked + " (the password was refused)", Fix: unlock + envFix, Err: err}
	case 128: // errSecUserCanceled: Cancel or Deny in the keychain's prompt
		return &KeychainError{Reason: reasonLocked + " (the keychain prompt was cancelled)",
			Fix: "allow Gatehouse in the prompt (Always Allow stops it asking again), " + envFix, Err: err}
	case 37, 50: // errSecNoDefaultKeychain -25307, errSecNoSuchKeychain -25294
		return &KeychainError{Reason: reasonAbsent,
			Fix: "create one in Keychain Access (File > New Keychain, then make it the default), " + envFix, Err: err}
	}
	return nil
}

// Account is the keychain account of a provider's secret field ("" = main key).
func Account(provider, field string) string {
	if field == "" {
		return provider
	}
	return provider + ":" + field
}

// keychainMu serialises keychain calls: go-keyring's backend is process-wide and
// not every one (its mock included) is safe for concurrent use.
var keychainMu sync.Mutex

// Keys is the in-memory cache of the keychain's secrets. The keychain is read once
// per account (Load, Reload) and changes made through Set and Delete update the
// cache at once, so Secret never touches the keychain. Safe for concurrent use.
type Keys struct {
	mu      sync.RWMutex
	secrets map[string]string        // account -> secret
	loaded  map[string]bool          // accounts read from the keychain (found or not)
	unavail error                    // the last *KeychainError, nil once the keychain answered
	late    map[string]*keychainRead // reads that outlasted keychainTimeout, awaited (takeLate)
}

// NewKeys returns an empty cache.
func NewKeys() *Keys {
	return &Keys{secrets: map[string]string{}, loaded: map[string]bool{}, late: map[string]*keychainRead{}}
}

// Secret returns the cached secret of provider's field and whether one is set. It
// never calls the keychain.
func (k *Keys) Secret(provider, field string) (string, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	v, ok := k.secrets[Account(provider, field)]
	return v, ok
}

// Unavailable returns the *KeychainError of the last keychain call that could not
// reach the keychain, or nil if the keychain answered last time.
func (k *Keys) Unavailable() error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.unavail
}

// Load reads every account not read before into the cache. On a keychain that
// cannot be used it stops at the first account and returns a *KeychainError; the
// accounts read so far stay cached.
func (k *Keys) Load(accounts []string) error {
	for _, a := range accounts {
		k.mu.RLock()
		done := k.loaded[a]
		k.mu.RUnlock()
		if done {
			continue
		}
		if err := k.read(a); err != nil {
			return err
		}
	}
	return nil
}

// Reload re-reads the given accounts from the keychain, e.g. after another process
// changed them.
func (k *Keys) Reload(accounts []string) error {
	for _, a := range accounts {
		if err := k.read(a); err != nil {
			return err
		}
	}
	return nil
}

func (k *Keys) read(account string) error {
	v, pending, err := keychainGet(account)
	k.mu.Lock()
	defer k.mu.Unlock()
	if pending != nil && k.late[account] != pending {
		k.late[account] = pending
		go k.takeLate(account, pending)
	}
	switch {
	case err == nil:
		k.secrets[account] = v
	case errors.Is(err, keyring.ErrNotFound):
		delete(k.secrets, account)
	default:
		k.unavail = explainKeychain(err)
		return fmt.Errorf("read keychain account %q: %w", account, k.unavail)
	}
	k.loaded[account] = true
	k.unavail = nil
	return nil
}

// takeLate waits for a read that outlasted keychainTimeout and caches what it
// found: a keychain that was only slow (or unlocked meanwhile) serves its key
// as soon as it answers. Unavailable stays as it was: the other accounts are
// read again by the caller's retry (serve's retryKeychain), which clears it.
func (k *Keys) takeLate(account string, r *keychainRead) {
	<-r.done
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.late[account] == r {
		delete(k.late, account)
	}
	switch {
	case r.err == nil:
		k.secrets[account] = r.v
	case errors.Is(r.err, keyring.ErrNotFound):
		delete(k.secrets, account)
	default:
		return
	}
	k.loaded[account] = true
}

// Set stores secret for provider's field in the keychain, then in the cache. It
// returns ErrSecretTooBig or a *KeychainError; nothing is written anywhere else.
func (k *Keys) Set(provider, field, secret string) error {
	account := Account(provider, field)
	if secret == "" {
		return fmt.Errorf("store %q: empty secret", account)
	}
	if len(secret) > MaxSecretBytes {
		return fmt.Errorf("store %q: %w (%d bytes; the limit is %d)", account, ErrSecretTooBig, len(secret), MaxSecretBytes)
	}
	keychainMu.Lock()
	keepDBusFromLaunching()
	err := keyring.Set(KeychainService, account, secret)
	keychainMu.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("store %q: %w (the platform keychain refused %d bytes)", account, ErrSecretTooBig, len(secret))
	}
	if err != nil {
		k.unavail = explainKeychain(err)
		return fmt.Errorf("store %s in the keychain: %w", account, k.unavail)
	}
	k.unavail = nil
	k.secrets[account] = secret
	k.loaded[account] = true
	return nil
}

// Delete removes provider's field from the keychain and the cache. It reports
// whether a secret was there; a missing one is not an error.
func (k *Keys) Delete(provider, field string) (bool, error) {
	account := Account(provider, field)
	keychainMu.Lock()
	keepDBusFromLaunching()
	err := keyring.Delete(KeychainService, account)
	keychainMu.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		k.unavail = explainKeychain(err)
		return false, fmt.Errorf("delete %q: %w", account, k.unavail)
	}
	k.unavail = nil
	delete(k.secrets, account)
	k.loaded[account] = true
	return err == nil, nil
}

// Values returns every cached secret, for redaction.
func (k *Keys) Values() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]string, 0, len(k.secrets))
	for _, v := range k.secrets {
		out = append(out, v)
	}
	return out
}
