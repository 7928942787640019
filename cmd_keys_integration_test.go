package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ui/cli"
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
	up := newUpstream(t, key)
	dir := dataWithProvider(t, up.URL)
	env := []string{"LOCAL_TEST_KEY="}
	proc := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		return gatehouseProcEnv(t, append(os.Environ(), env...), stdin, args...)
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

	addr, stop := serveProc(t, append(os.Environ(), env...), dir)
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

// gatehouseProcEnv is gatehouseProc with the whole environment given.
func gatehouseProcEnv(t *testing.T, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(testBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("gatehouse %v did not finish within 30s", args)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// serveProc starts `gatehouse serve` on 127.0.0.1:0 and returns its address and
// a stop function that ends it gracefully.
func serveProc(t *testing.T, env []string, dir string) (addr string, stop func()) {
	t.Helper()
	cmd := exec.Command(testBinary(t), "serve", "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	t.Cleanup(stop)
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "gatehouse listening") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start within 20s")
	}
	info, err := cli.ReadInstance(dir)
	if err != nil {
		t.Fatal(err)
	}
	return info.Addr, stop
}
