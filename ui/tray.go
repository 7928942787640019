package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"github.com/gatehouse/gatehouse/assets"
)

// Tray menu labels. Fyne appends its own "Quit" item (after a separator) to
// every tray menu, so the menu does not add one: Quit ends Run, and main then
// stops the proxy gracefully.
const (
	MenuOpen          = "Open Gatehouse"
	MenuCopyOpenAI    = "Copy OpenAI base URL"
	MenuCopyAnthropic = "Copy Anthropic base URL"
	MenuPause         = "Pause proxy"
	MenuResume        = "Resume proxy"
)

// tray is the system tray icon and menu.
type tray struct {
	a      *App
	desk   desktop.App
	menu   *fyne.Menu
	status *fyne.MenuItem
	pause  *fyne.MenuItem
	stats  Stats
	warn   string // the history's fault, shown under the status line
	shown  string // status, pause label and icon last pushed to the tray
}

// EnableTray puts Gatehouse in the system tray. With hideOnClose, closing the
// window leaves the app running in the tray (use it only when a tray host is
// there to bring it back). Call it before the window is first shown.
// Call it on the UI thread. It does nothing when the driver has no tray.
func (a *App) EnableTray(hideOnClose bool) {
	if desk, ok := a.fy.(desktop.App); ok {
		a.enableTray(desk, hideOnClose)
	}
}

func (a *App) enableTray(desk desktop.App, hideOnClose bool) {
	t := &tray{a: a, desk: desk}
	t.status = fyne.NewMenuItem("", nil)
	t.status.Disabled = true
	t.pause = fyne.NewMenuItem(MenuPause, func() { a.setPaused(!a.b.Proxy.Paused()) })
	t.menu = fyne.NewMenu("Gatehouse",
		t.status,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(MenuOpen, a.Show),
		fyne.NewMenuItem(MenuCopyOpenAI, func() { a.copyText(a.openAIBase()) }),
		fyne.NewMenuItem(MenuCopyAnthropic, func() { a.copyText(a.anthropicBase()) }),
		t.pause,
	)
	a.tray = t
	t.refresh()
	if hideOnClose {
		a.closeToTray = true
		if a.win != nil { // built before the tray: it can no longer be the master
			a.win.SetCloseIntercept(a.closeWindowToTray)
		}
	}
}

// InTray reports whether closing the window leaves the app in the tray (a
// tray host is there to bring the window back).
func (a *App) InTray() bool { return a.closeToTray }

// TrayMenu is the tray menu, or nil when the tray is off.
func (a *App) TrayMenu() *fyne.Menu {
	if a.tray == nil {
		return nil
	}
	return a.tray.menu
}

// update takes new stats; on the UI thread.
func (t *tray) update(s Stats) {
	t.stats = s
	t.refresh()
}

// refresh pushes the menu and icon to the tray when what they show changed; on
// the UI thread.
func (t *tray) refresh() {
	paused := t.a.b.Proxy.Paused()
	t.status.Label = statusLine(t.a.b.Proxy.Addr(), paused, t.stats)
	if t.warn != "" {
		t.status.Label += " · " + t.warn
	}
	t.pause.Label = MenuPause
	if paused {
		t.pause.Label = MenuResume
	}
	state := trayState(paused, t.a.health.failedRecently())
	dark := t.a.fy.Settings().ThemeVariant() == theme.VariantDark
	key := fmt.Sprint(t.status.Label, t.pause.Label, state, dark)
	if key == t.shown {
		return
	}
	t.shown = key
	t.desk.SetSystemTrayMenu(t.menu)
	t.desk.SetSystemTrayIcon(assets.Tray(state, dark))
}

// trayState picks the tray icon.
func trayState(paused, failedRecently bool) assets.TrayState {
	switch {
	case paused:
		return assets.TrayPaused
	case failedRecently:
		return assets.TrayFailures
	}
	return assets.TrayRunning
}

// statusLine is the first line of the tray menu:
// "Listening on 127.0.0.1:8765 · 1,204 calls today · 3 failed".
func statusLine(addr string, paused bool, s Stats) string {
	verb := "Listening on "
	if paused {
		verb = "Paused on "
	}
	calls := "calls"
	if s.Calls == 1 {
		calls = "call"
	}
	return fmt.Sprintf("%s%s · %s %s today · %s failed", verb, addr, thousands(s.Calls), calls, thousands(s.Failed))
}
