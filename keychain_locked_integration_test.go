package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// ciKeyringPassword is the login keyring's password in .ci/integration.
const ciKeyringPassword = "gatehouse-ci"

const loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")

// secretService is the session's Secret Service (gnome-keyring).
func secretService(t *testing.T) (*dbus.Conn, dbus.BusObject) {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("session bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
}

// lockKeyring locks the login keyring, as the screen locker or a timeout does.
func lockKeyring(t *testing.T) {
	t.Helper()
	_, svc := secretService(t)
	if call := svc.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{loginCollection}); call.Err != nil {
		t.Fatalf("lock the keyring: %v", call.Err)
	}
}

// unlockKeyring unlocks it with its password, without a prompt: gnome-keyring's
// own interface, over one connection (the session carrying the password
// belongs to the connection that opened it).
func unlockKeyring(t *testing.T) {
	t.Helper()
	_, svc := secretService(t)
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		t.Fatalf("open a Secret Service session: %v", err)
	}
	secret := struct {
		Session     dbus.ObjectPath
		Params      []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte(ciKeyringPassword), "text/plain"}
	if call := svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0, loginCollection, secret); call.Err != nil {
		t.Fatalf("unlock the keyring: %v", call.Err)
	}
}

// TestIntegrationKeychainLockedAfterStart: the keychain is locked while serve
// runs and a provider is added; its calls get an error saying the keychain is
// locked, and unlocking it is enough for them to work, with no restart
// (issue 15 §4). Runs under .ci/integration (real gnome-keyring).
func TestIntegrationKeychainLockedAfterStart(t *testing.T) {
	if os.Getenv("GATEHOUSE_INTEGRATION") != "1" {
		t.Skip("set GATEHOUSE_INTEGRATION=1 inside a D-Bus session with an unlocked keyring (.ci/integration)")
	}
	const key = "sk-integration-locked-key-0042"
	up := startUpstream(t, key)
	dir := dataWithProvider(t, up.URL)
	env := append(os.Environ(), "LOCAL_TEST_KEY=", "DISPLAY=") // no prompt window
	if out, err := exec.Command("sh", "-c", "printf %s '"+key+"' | secret-tool store --label=gatehouse-late service gatehouse username late").CombinedOutput(); err != nil {
		t.Skipf("secret-tool store: %v %s", err, out)
	}
	t.Cleanup(func() {
		unlockKeyring(t)
		_ = exec.Command("secret-tool", "clear", "service", "gatehouse", "username", "late").Run()
	})
	p := startServeEnv(t, dir, env)

	lockKeyring(t)
	// A provider added now: its key is in the keychain, which cannot be read.
	cfg, err := os.ReadFile(dir + "/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	late := strings.ReplaceAll(strings.SplitN(string(cfg), "[[provider]]", 2)[1], `name = "local"`, `name = "late"`)
	if err := os.WriteFile(dir+"/config.toml", append(cfg, []byte("\n[[provider]]"+late)...), 0o600); err != nil {
		t.Fatal(err)
	}
	var status int
	var body string
	// The config watcher adds the provider within a second; reading its key
	// then gives up after the keychain's 5 s timeout.
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if status, body = chatBody(t, p.addr, "late/m1"); strings.Contains(body, "keychain") {
			break
		}
	}
	if status != 401 || !strings.Contains(body, "the keychain is locked") || !strings.Contains(body, "no restart needed") {
		t.Fatalf("a call needing a key from the locked keychain: %d %s\n%s", status, body, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "keychain unavailable") {
		t.Errorf("serve's log does not say the keychain is unavailable:\n%s", p.stderr)
	}

	unlockKeyring(t)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if status, body = chatBody(t, p.addr, "late/m1"); status == 200 {
			break
		}
	}
	if status != 200 || up.lastKey() != key {
		t.Fatalf("after unlocking, without a restart: %d %s (upstream saw %q)", status, body, up.lastKey())
	}
	if err := p.stop(t); err != nil {
		t.Errorf("serve exit: %v", err)
	}
}
