package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestIntegrationKeychainServe runs the built gatehouse binary (testBinary)
// against the session's real Secret Service, started by .ci/integration: keys
// set, list, a call through `gatehouse serve` that must carry the keychain key,
// keys delete reaching the running instance, and no trace of the key in the data
// folder.
func TestIntegrationKeychainServe(t *testing.T) {
	if os.Getenv("GATEHOUSE_INTEGRATION") != "1" {
		t.Skip("set GATEHOUSE_INTEGRATION=1 inside a D-Bus session with an unlocked keyring (.ci/integration)")
	}
	const key = "sk-integration-keychain-key-7f3a"
	up := startUpstream(t, key)
	dir := dataWithProvider(t, up.URL)
	env := []string{"LOCAL_TEST_KEY="}
	proc := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		return gatehouseProc(t, append(os.Environ(), env...), stdin, args...)
	}
	t.Cleanup(func() { proc("", "keys", "delete", "local", "--data", dir) })

	if code, out, errOut := proc(key+"\n", "keys", "set", "local", "--data", dir); code != 0 {
		t.Fatalf("keys set against the real keychain: exit %d %q %q", code, out, errOut)
	}
	if tool, err := exec.LookPath("secret-tool"); err == nil {
		// Cross-check with libsecret's own client: the key is in the Secret Service.
		got, err := exec.Command(tool, "lookup", "service", "gatehouse", "username", "local").Output()
		if err != nil || string(got) != key {
			t.Fatalf("secret-tool lookup service gatehouse username local: %v (value matches: %v)", err, string(got) == key)
		}
	}
	code, out, errOut := proc("", "keys", "list", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("keys list: exit %d %q", code, errOut)
	}
	if r := keyRows(t, out)["local"]; r.Source != "keychain" || r.Mask != "sk-…7f3a" {
		t.Fatalf("keys list: local = %+v, want keychain sk-…7f3a", r)
	}

	p := startServeEnv(t, dir, append(os.Environ(), env...))
	addr, stop := p.addr, func() { _ = p.stop(t) }
	if status := chatAt(t, addr, "local/m1"); status != 200 || up.lastKey() != key {
		t.Fatalf("call through serve: status %d, upstream saw %q; want the keychain key", status, up.lastKey())
	}
	code, out, errOut = proc("", "keys", "delete", "local", "--data", dir)
	if code != 0 || !strings.Contains(out, "running Gatehouse uses the change now") {
		t.Fatalf("keys delete with serve running: exit %d %q %q", code, out, errOut)
	}
	if status := chatAt(t, addr, "local/m1"); status == 200 {
		t.Fatal("serve still used the deleted key")
	}
	stop()
	assertNotInDir(t, dir, key)
}
