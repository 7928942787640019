package main

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ui/cli"
	"github.com/godbus/dbus/v5"
)

// TestIntegrationAppHiddenStart: `gatehouse --hidden` (what start at login
// runs) comes up in the tray with no window; the proxy answers, the tray item
// is on the bus, a second --hidden start leaves it alone, and Open (here the
// admin API a second launch uses) builds the window.
func TestIntegrationAppHiddenStart(t *testing.T) {
	if os.Getenv("GATEHOUSE_INTEGRATION") != "1" || os.Getenv("DISPLAY") == "" {
		t.Skip("set GATEHOUSE_INTEGRATION=1 and DISPLAY (see .ci/integration)")
	}
	conn, err := dbus.SessionBus() // shared: never closed
	if err != nil || !hasOwner(t, conn, "org.kde.StatusNotifierWatcher") {
		t.Skipf("no tray host on the session bus (%v): .ci/integration starts one", err)
	}
	if n := len(gatehouseWindows()); n != 0 {
		t.Fatalf("%d Gatehouse windows on the display before the test", n)
	}
	dir := t.TempDir()
	app, _ := startApp(t, dir, nil, "--hidden")
	item := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", app.pid())
	for deadline := time.Now().Add(15 * time.Second); !hasOwner(t, conn, item); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared on the bus\n%s", item, app.stderr.String())
		}
	}
	time.Sleep(time.Second)
	if n := len(gatehouseWindows()); n != 0 {
		t.Fatalf("--hidden opened %d windows", n)
	}
	t.Logf("started hidden in the tray: RSS %.1f MB", rssMB(t, app.pid()))

	again := exec.Command(testBinary(t), "--hidden", "--data", dir)
	if out, err := again.CombinedOutput(); err != nil {
		t.Fatalf("a second --hidden start: %v\n%s", err, out)
	}
	if n := len(gatehouseWindows()); n != 0 {
		t.Fatalf("a second --hidden start opened %d windows", n)
	}

	c, ok := cli.FindRunning(dir)
	if !ok {
		t.Fatal("the app's admin API does not answer")
	}
	if status, b, err := c.Do("POST", "app/show", nil); err != nil || status != 200 {
		t.Fatalf("show: %d %s %v", status, b, err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(gatehouseWindows()) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Open did not bring up a window")
		}
	}
}
