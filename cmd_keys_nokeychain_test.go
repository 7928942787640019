package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gatehouseProc runs a command line in a process of its own (the built
// binary) with exactly env: a real keychain, another D-Bus, no D-Bus at all.
func gatehouseProc(t *testing.T, env []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	bin := testBinary(t) // built before the clock starts
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
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
	return []string{"HOME=" + home, "XDG_RUNTIME_DIR=" + run, "PATH=" + t.TempDir(), "LANG=C"}
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
	code, out, errOut := gatehouseProc(t, append(baseEnv(t), "DBUS_SESSION_BUS_ADDRESS="+addr), secret+"\n", "keys", "set", "openai", "--data", dir)
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
	code, out, errOut := gatehouseProc(t, baseEnv(t), secret+"\n", "keys", "set", "openai", "--data", dir)
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
	up := startUpstream(t, envKey)
	dir := dataWithProvider(t, up.URL)
	p := startServeEnv(t, dir, append(baseEnv(t), "LOCAL_TEST_KEY="+envKey))
	var warned bool
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(l, "keychain unavailable") {
			warned = strings.Contains(l, "no D-Bus session bus") && strings.Contains(l, "local=LOCAL_TEST_KEY")
			if strings.Contains(l, envKey) {
				t.Fatalf("the log shows the key: %s", l)
			}
		}
	}
	if !warned {
		t.Fatal("serve did not say the keychain is missing, why, and which env keys it uses")
	}
	if status := chatAt(t, p.addr, "local/m1"); status != 200 || up.lastKey() != envKey {
		t.Fatalf("call without keychain: status %d, upstream saw %q", status, up.lastKey())
	}
}

// With no session bus to find, Gatehouse starts none: godbus would run
// dbus-launch, and the bus and keyring daemon it starts outlive the process
// (one pair per run; CI ran out of inotify instances).
func TestKeychainStartsNoSessionBus(t *testing.T) {
	env := baseEnv(t)
	bin := strings.TrimPrefix(env[2], "PATH=")
	mark := filepath.Join(t.TempDir(), "dbus-launch-ran")
	script := "#!/bin/sh\necho ran > " + mark + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := dataWithProvider(t, "http://127.0.0.1:1")
	code, _, errOut := gatehouseProc(t, env, "", "keys", "list", "--data", dir)
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("gatehouse ran dbus-launch: its bus and keyring daemon would outlive it")
	}
	if code != 0 || !strings.Contains(errOut, "no D-Bus session bus") {
		t.Fatalf("keys list: exit %d, stderr %q; want the key_env list and a word that there is no D-Bus session bus", code, errOut)
	}
}
