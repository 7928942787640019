package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ui/cli"
)

// gatehouseProc runs a command line in a child process (this test binary, see
// init in cmd_keys_test.go) with env added to a minimal environment.
func gatehouseProc(t *testing.T, env []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(baseEnv(t), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// baseEnv is a clean environment: no inherited session bus, an empty HOME and
// runtime dir (godbus would find $XDG_RUNTIME_DIR/bus), and a PATH without
// dbus-launch, which godbus would otherwise use to start a bus.
func baseEnv(t *testing.T) []string {
	t.Helper()
	home, run := t.TempDir(), t.TempDir()
	return []string{"GATEHOUSE_TEST_MAIN=1", "HOME=" + home, "XDG_RUNTIME_DIR=" + run, "PATH=" + t.TempDir(), "LANG=C"}
}

// privateBus starts a D-Bus session daemon with no service files, so that no
// Secret Service can be found or activated on it, and returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed (.ci/deps --test)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=`+dir+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatal("dbus-daemon printed no address")
		}
		return addr
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon did not start within 10s")
	}
	return ""
}

func TestKeysSetWithoutSecretService(t *testing.T) {
	addr := privateBus(t)
	dir := dataWithProvider(t, "http://127.0.0.1:1")
	const secret = "sk-nowhere-to-go-000000000001"
	code, out, errOut := gatehouseProc(t, []string{"DBUS_SESSION_BUS_ADDRESS=" + addr}, secret+"\n", "keys", "set", "openai", "--data", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	if !strings.Contains(errOut, "no Secret Service found on D-Bus: install and unlock gnome-keyring or KWallet") {
		t.Fatalf("stderr %q does not say what is missing and how to fix it", errOut)
	}
	if strings.Contains(out+errOut, secret) {
		t.Fatal("the secret was printed")
	}
	assertNotInDir(t, dir, secret)
}

func TestKeysSetWithoutBus(t *testing.T) {
	dir := dataWithProvider(t, "http://127.0.0.1:1")
	const secret = "sk-nowhere-to-go-000000000002"
	code, out, errOut := gatehouseProc(t, nil, secret+"\n", "keys", "set", "openai", "--data", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	if !strings.Contains(errOut, "no D-Bus session bus") || !strings.Contains(errOut, "key_env") {
		t.Fatalf("stderr %q does not say what is missing and how to fix it", errOut)
	}
	if strings.Contains(out+errOut, secret) {
		t.Fatal("the secret was printed")
	}
	assertNotInDir(t, dir, secret)
}

// TestServeWithoutKeychain: with no bus at all, `gatehouse serve` still starts,
// says what is missing, and forwards calls with the key_env key.
func TestServeWithoutKeychain(t *testing.T) {
	const envKey = "sk-env-only-key-00000000042"
	up := newUpstream(t, envKey)
	dir := dataWithProvider(t, up.URL)
	cmd := exec.Command(os.Args[0], "serve", "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = append(baseEnv(t), "LOCAL_TEST_KEY="+envKey)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	logs := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	var warned bool
	deadline := time.After(20 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-logs:
			if !ok {
				t.Fatal("serve exited before listening")
			}
			if strings.Contains(l, "keychain unavailable") {
				warned = strings.Contains(l, "no D-Bus session bus") && strings.Contains(l, "local=LOCAL_TEST_KEY")
				if strings.Contains(l, envKey) {
					t.Fatalf("the log shows the key: %s", l)
				}
			}
			ready = strings.Contains(l, "gatehouse listening")
		case <-deadline:
			t.Fatal("serve did not start within 20s")
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	if !warned {
		t.Fatal("serve did not say the keychain is missing, why, and which env keys it uses")
	}
	info, err := cli.ReadInstance(dir)
	if err != nil {
		t.Fatal(err)
	}
	if status := chatAt(t, info.Addr, "local/m1"); status != 200 || up.lastKey() != envKey {
		t.Fatalf("call without keychain: status %d, upstream saw %q", status, up.lastKey())
	}
}
