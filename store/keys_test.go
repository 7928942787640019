package store

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

// mockKeychain swaps go-keyring's backend for an in-memory one. It does so for
// the whole test binary, so the real-keychain test (keys_integration_test.go)
// refuses to run after it.
func mockKeychain(t *testing.T) {
	t.Helper()
	mockedMu.Lock()
	mocked = true
	mockedMu.Unlock()
	keyring.MockInit()
}

var (
	mockedMu sync.Mutex
	mocked   bool
)

func TestKeysSetSecretDelete(t *testing.T) {
	mockKeychain(t)
	k := NewKeys()
	if err := k.Load([]string{"openai", "mygw", "mygw:secret"}); err != nil {
		t.Fatalf("Load on an empty keychain: %v", err)
	}
	if _, ok := k.Secret("openai", ""); ok {
		t.Fatal("Secret(openai) found a key in an empty keychain")
	}
	if err := k.Set("openai", "", "sk-test-1234567890abcd"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := k.Set("mygw", "secret", "s3cr3t-value"); err != nil {
		t.Fatalf("Set field: %v", err)
	}
	if v, ok := k.Secret("openai", ""); !ok || v != "sk-test-1234567890abcd" {
		t.Fatalf("Secret(openai) = %q, %v; want the key just set", v, ok)
	}
	// The keychain holds it under the documented account names.
	if v, err := keyring.Get("gatehouse", "mygw:secret"); err != nil || v != "s3cr3t-value" {
		t.Fatalf("keychain gatehouse/mygw:secret = %q, %v", v, err)
	}
	// A second cache (another process) sees it on Load.
	other := NewKeys()
	if err := other.Load([]string{"openai"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := other.Secret("openai", ""); v != "sk-test-1234567890abcd" {
		t.Fatalf("a fresh cache read %q", v)
	}
	found, err := k.Delete("openai", "")
	if err != nil || !found {
		t.Fatalf("Delete = %v, %v; want true, nil", found, err)
	}
	if _, ok := k.Secret("openai", ""); ok {
		t.Fatal("the cache still serves a deleted key")
	}
	if found, err := k.Delete("openai", ""); err != nil || found {
		t.Fatalf("second Delete = %v, %v; want false, nil", found, err)
	}
	// The other cache is stale until told to reload: what keys/reload is for.
	if _, ok := other.Secret("openai", ""); !ok {
		t.Fatal("Load should have cached the key")
	}
	if err := other.Reload([]string{"openai"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Secret("openai", ""); ok {
		t.Fatal("Reload kept a deleted key")
	}
	if got := k.Values(); len(got) != 1 || got[0] != "s3cr3t-value" {
		t.Fatalf("Values() = %q", got)
	}
}

func TestKeysLoadReadsEachAccountOnce(t *testing.T) {
	mockKeychain(t)
	k := NewKeys()
	if err := k.Load([]string{"groq"}); err != nil {
		t.Fatal(err)
	}
	// Written behind the cache's back: Load must not re-read (no keychain call per
	// use), Reload must.
	if err := keyring.Set("gatehouse", "groq", "gsk_abcdefghijklmnop"); err != nil {
		t.Fatal(err)
	}
	if err := k.Load([]string{"groq"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Secret("groq", ""); ok {
		t.Fatal("Load re-read an account it had already read")
	}
	if err := k.Reload([]string{"groq"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := k.Secret("groq", ""); v != "gsk_abcdefghijklmnop" {
		t.Fatalf("after Reload: %q", v)
	}
}

func TestKeysTooBig(t *testing.T) {
	mockKeychain(t)
	k := NewKeys()
	err := k.Set("openai", "", strings.Repeat("x", MaxSecretBytes+1))
	if !errors.Is(err, ErrSecretTooBig) {
		t.Fatalf("Set(too big) = %v; want ErrSecretTooBig", err)
	}
	if _, gerr := keyring.Get("gatehouse", "openai"); !errors.Is(gerr, keyring.ErrNotFound) {
		t.Fatalf("a too-big secret reached the keychain: %v", gerr)
	}
	if strings.Contains(err.Error(), "xxxx") {
		t.Fatalf("the error shows the secret: %v", err)
	}
	if err := k.Set("openai", "", strings.Repeat("x", MaxSecretBytes)); err != nil {
		t.Fatalf("Set(at the limit) = %v", err)
	}
}

// securityExit is the error go-keyring's macOS backend returns when
// /usr/bin/security exits with code: a real *exec.ExitError.
func securityExit(t *testing.T, code int) error {
	t.Helper()
	err := exec.Command("sh", "-c", fmt.Sprintf("exit %d", code)).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != code {
		t.Fatalf("sh -c 'exit %d' = %v", code, err)
	}
	return err
}

func TestKeysUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		backend error // the backend's error, as measured in PLATFORM.md
		want    string
	}{
		{"linux no dbus", errors.New(`exec: "dbus-launch": executable file not found in $PATH`), "no D-Bus session bus"},
		{"linux no secret service", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), "no Secret Service found on D-Bus: install and unlock gnome-keyring or KWallet"},
		{"linux locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), "the keychain is locked: unlock your login keyring"},
		{"macOS locked, no prompt (36)", securityExit(t, 36), "the keychain is locked: unlock your login keychain (log in at the Mac, or run security unlock-keychain"},
		{"macOS password refused (51)", securityExit(t, 51), "the keychain is locked (the password was refused)"},
		{"macOS prompt cancelled (128)", securityExit(t, 128), "the keychain is locked (the keychain prompt was cancelled): allow Gatehouse"},
		{"macOS no default keychain (37)", securityExit(t, 37), "there is no login keychain: create one in Keychain Access"},
		{"macOS no such keychain (50)", securityExit(t, 50), "there is no login keychain"},
		{"macOS other status", securityExit(t, 1), "the keychain cannot be used (exit status 1)"},
		{"something else", errors.New("something else"), "the keychain cannot be used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mockedMu.Lock()
			mocked = true
			mockedMu.Unlock()
			keyring.MockInitWithError(tt.backend)
			k := NewKeys()
			for name, err := range map[string]error{
				"Load": k.Load([]string{"openai"}),
				"Set":  k.Set("openai", "", "sk-secret-value-0000"),
			} {
				if !errors.Is(err, ErrKeychainUnavailable) {
					t.Fatalf("%s = %v; want ErrKeychainUnavailable", name, err)
				}
				if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "key_env") {
					t.Fatalf("%s error %q lacks %q and the key_env hint", name, err, tt.want)
				}
				if strings.Contains(err.Error(), "sk-secret") {
					t.Fatalf("%s error shows the secret: %v", name, err)
				}
			}
			if _, err := k.Delete("openai", ""); !errors.Is(err, ErrKeychainUnavailable) {
				t.Fatalf("Delete = %v", err)
			}
			if k.Unavailable() == nil {
				t.Fatal("Unavailable() = nil after failures")
			}
			if _, ok := k.Secret("openai", ""); ok {
				t.Fatal("Set on a failed keychain cached the secret")
			}
		})
	}
}

func TestKeysConcurrentSecret(t *testing.T) {
	mockKeychain(t)
	k := NewKeys()
	if err := k.Set("openai", "", "sk-concurrent-000000"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				if _, ok := k.Secret("openai", ""); !ok {
					t.Error("key vanished")
					return
				}
			}
		}()
	}
	for j := 0; j < 50; j++ {
		if err := k.Set("openai", "", "sk-concurrent-000001"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

func BenchmarkKeysSecret(b *testing.B) {
	keyring.MockInit()
	k := NewKeys()
	if err := k.Set("openai", "", "sk-bench-00000000000"); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := k.Secret("openai", ""); !ok {
				b.Fatal("missing")
			}
		}
	})
}
