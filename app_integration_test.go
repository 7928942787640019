package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/gatehouse/gatehouse/ui"
)

// TestIntegrationAppTray runs the real desktop app in a real window (Xvfb) in a
// D-Bus session with a StatusNotifier tray host (.ci/integration starts both):
// its tray menu is on the bus with the items exactly once, Pause works
// through the menu, a second launch brings the first window forward, and
// clicking Quit through D-Bus ends the app with exit code 0 and stops its proxy.
func TestIntegrationAppTray(t *testing.T) {
	if os.Getenv("GATEHOUSE_INTEGRATION") != "1" {
		t.Skip("set GATEHOUSE_INTEGRATION=1 (see .ci/integration)")
	}
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY: .ci/integration starts Xvfb")
	}
	conn, err := dbus.SessionBus() // shared: never closed
	if err != nil {
		t.Skipf("no D-Bus session bus: %v", err)
	}
	if !hasOwner(t, conn, "org.kde.StatusNotifierWatcher") {
		t.Skip("no StatusNotifier watcher: .ci/integration starts gtk-sni-tray-standalone --watcher")
	}

	bin := testBinary(t)
	up := startUpstream(t, "")
	dir := t.TempDir()
	writeTestConfig(t, dir, up)
	env := append(os.Environ(), "LANG=en_US.UTF-8", "GATEHOUSE_TEST_KEY="+testProviderKey)
	app, base := startApp(t, dir, []string{"GATEHOUSE_TEST_KEY=" + testProviderKey})
	cmd, stderr, exited := app.cmd, &app.stderr, app.exited
	if _, status := chat(t, base, "hello", ""); status != 200 {
		t.Fatalf("a call through the app's proxy got %d\n%s", status, stderr.String())
	}

	item := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", cmd.Process.Pid)
	deadline := time.Now().Add(15 * time.Second)
	for !hasOwner(t, conn, item) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared on the bus\n%s", item, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	items := trayMenu(t, item)
	want := []string{ui.MenuOpen, ui.MenuShowFailed, ui.MenuCopyOpenAI, ui.MenuCopyAnthropic, ui.MenuPause, ui.MenuQuit}
	for _, w := range want {
		if n := countLabel(items, w); n != 1 {
			t.Errorf("tray menu has %q %d times, want once: %v", w, n, items)
		}
	}
	if len(items) == 0 || !strings.HasPrefix(items[0].label, "Listening on 127.0.0.1:") || items[len(items)-1].label != ui.MenuQuit {
		t.Errorf("tray menu %v, want the status line first and Quit last", items)
	}
	// Today's figures change in the tooltip, in place: the menu itself is not
	// rebuilt (its layout revision stays), so an open menu never moves under
	// the pointer (issue 16 §5).
	rev := layoutRevision(t, item)
	waitFor(t, "the tooltip with today's call", func() bool { return strings.Contains(trayTooltip(t, item), "1 call today") })
	if _, status := chat(t, base, "hello again", ""); status != 200 {
		t.Fatalf("a second call got %d", status)
	}
	waitFor(t, "the tooltip with two calls", func() bool { return strings.Contains(trayTooltip(t, item), "2 calls today") })
	if got := layoutRevision(t, item); got != rev {
		t.Errorf("the tray menu was rebuilt for new figures (layout revision %s → %s)", rev, got)
	}

	click(t, item, idOf(t, items, ui.MenuPause))
	waitFor(t, "the Resume item", func() bool { return countLabel(trayMenu(t, item), ui.MenuResume) == 1 })
	if _, status := chat(t, base, "paused?", ""); status != 503 {
		t.Errorf("a call to the paused proxy got %d, want 503", status)
	}
	click(t, item, idOf(t, trayMenu(t, item), ui.MenuResume))
	waitFor(t, "the Pause item", func() bool { return countLabel(trayMenu(t, item), ui.MenuPause) == 1 })

	second := exec.Command(bin, "--data", dir)
	second.Env = env
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "brought forward") {
		t.Errorf("second launch: %v\n%s", err, out)
	}

	click(t, item, idOf(t, trayMenu(t, item), ui.MenuQuit))
	select {
	case <-exited:
		if app.err != nil {
			t.Errorf("app ended with %v, want exit code 0\n%s", app.err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("app still running 20 s after Quit\n%s", stderr.String())
	}
	if resp, err := http.Get(base + "/_gatehouse/health"); err == nil {
		resp.Body.Close()
		t.Errorf("the proxy still answers after Quit: %s", resp.Status)
	}
	if _, err := os.Stat(filepath.Join(dir, "instance.json")); !os.IsNotExist(err) {
		t.Errorf("instance.json left behind after Quit: %v", err)
	}
}

// layoutRevision is the tray menu's layout revision: it changes when the menu is rebuilt.
func layoutRevision(t *testing.T, dest string) string {
	t.Helper()
	out := gdbus(t, dest, "/StatusNotifierMenu", "com.canonical.dbusmenu.GetLayout", "0", "-1", "[]")
	m := regexp.MustCompile(`^\(uint32 (\d+),`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("GetLayout gave %q", out)
	}
	return m[1]
}

// trayTooltip is the tray icon's tooltip text.
func trayTooltip(t *testing.T, dest string) string {
	t.Helper()
	return gdbus(t, dest, "/StatusNotifierItem", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierItem", "ToolTip")
}

// gdbus calls a method on the session bus and returns its printed answer.
func gdbus(t *testing.T, dest, path, method string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := append([]string{"call", "--session", "--dest", dest, "--object-path", path, "--method", method, "--"}, args...)
	out, err := exec.CommandContext(ctx, "gdbus", cmd...).CombinedOutput()
	if err != nil {
		t.Fatalf("gdbus %s: %v\n%s", method, err, out)
	}
	return strings.TrimSpace(string(out))
}

func hasOwner(t *testing.T, conn *dbus.Conn, name string) bool {
	t.Helper()
	var ok bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&ok); err != nil {
		t.Fatalf("NameHasOwner %s: %v", name, err)
	}
	return ok
}

type menuItem struct {
	id    string
	label string
}

// trayMenu reads the tray menu with gdbus, as a user's tray host would.
func trayMenu(t *testing.T, dest string) []menuItem {
	t.Helper()
	out := []byte(gdbus(t, dest, "/StatusNotifierMenu", "com.canonical.dbusmenu.GetLayout", "0", "-1", "[]"))
	var items []menuItem
	for _, m := range regexp.MustCompile(`\((\d+), \{([^}]*)\}`).FindAllSubmatch(out, -1) {
		if l := regexp.MustCompile(`'label': <'([^']*)'>`).FindSubmatch(m[2]); l != nil {
			items = append(items, menuItem{id: string(m[1]), label: string(l[1])})
		}
	}
	return items
}

func countLabel(items []menuItem, label string) int {
	n := 0
	for _, it := range items {
		if it.label == label {
			n++
		}
	}
	return n
}

func idOf(t *testing.T, items []menuItem, label string) string {
	t.Helper()
	for _, it := range items {
		if it.label == label {
			return it.id
		}
	}
	t.Fatalf("no tray item %q in %v", label, items)
	return ""
}

// click sends a dbusmenu click event to item id.
func click(t *testing.T, dest, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gdbus", "call", "--session", "--dest", dest, "--object-path", "/StatusNotifierMenu",
		"--method", "com.canonical.dbusmenu.Event", "--", id, "clicked", "<int32 0>", "0").CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("NoReply")) {
		t.Fatalf("click %s: %v\n%s", id, err, out)
	}
}
