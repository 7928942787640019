package store

import (
	"os"
	"testing"

	"github.com/zalando/go-keyring"
)

// TestIntegrationKeychain runs against the real Secret Service of the session
// (.ci/integration starts one with an unlocked gnome-keyring). This file sorts
// before keys_test.go, so it runs before any test swaps in go-keyring's mock.
func TestIntegrationKeychain(t *testing.T) {
	if os.Getenv("GATEHOUSE_INTEGRATION") != "1" {
		t.Skip("set GATEHOUSE_INTEGRATION=1 inside a D-Bus session with an unlocked keyring (.ci/integration)")
	}
	mockedMu.Lock()
	m := mocked
	mockedMu.Unlock()
	if m {
		t.Fatal("go-keyring's mock is already installed in this process: run this test first (-run Integration)")
	}
	const name = "gatehouse-itest"
	t.Cleanup(func() {
		_ = keyring.Delete(KeychainService, name)
		_ = keyring.Delete(KeychainService, name+":secret")
	})
	k := NewKeys()
	if err := k.Load([]string{name, name + ":secret"}); err != nil {
		t.Fatalf("Load from the real keychain: %v", err)
	}
	if err := k.Set(name, "", "sk-itest-0123456789abcdef"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := k.Set(name, "secret", "itest-secret-part"); err != nil {
		t.Fatalf("Set field: %v", err)
	}
	// Read back through a fresh cache, i.e. from the daemon, not from memory.
	fresh := NewKeys()
	if err := fresh.Load([]string{name, name + ":secret"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := fresh.Secret(name, ""); v != "sk-itest-0123456789abcdef" {
		t.Fatalf("main key read back as %q", v)
	}
	if v, _ := fresh.Secret(name, "secret"); v != "itest-secret-part" {
		t.Fatalf("secret field read back as %q", v)
	}
	if found, err := k.Delete(name, ""); err != nil || !found {
		t.Fatalf("Delete = %v, %v", found, err)
	}
	if err := fresh.Reload([]string{name}); err != nil {
		t.Fatal(err)
	}
	if _, ok := fresh.Secret(name, ""); ok {
		t.Fatal("the daemon still has the deleted key")
	}
}
