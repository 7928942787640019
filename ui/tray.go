package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/systray"

	"github.com/gatehouse/gatehouse/assets"
)

// Tray menu labels.
const (
	MenuOpen          = "Open Gatehouse"
	MenuShowFailed    = "Show failed calls"
	MenuCopyOpenAI    = "Copy OpenAI base URL"
	MenuCopyAnthropic = "Copy Anthropic base URL"
	MenuPause         = "Pause proxy"
	MenuResume        = "Resume proxy"
	MenuQuit          = "Quit" // Fyne's own label: it gives the item its quit action
)

// setTrayTooltip shows text when the pointer rests on the tray icon; a
// variable so tests can read it.
var setTrayTooltip = systray.SetTooltip

// tray is the system tray icon and menu.
//
// Fyne rebuilds the whole OS menu on every SetSystemTrayMenu, and an open menu
// then re-lays itself out under the pointer: a click meant for "Pause proxy"
// once landed on Quit (issue 16 §5). So the menu is pushed only when the user
// changed something from it or the window (pause and resume: the menu is
// closed then); the live figures go to the icon's tooltip, which changes in
// place, and the icon itself is set on its own. Quit sits last, after a
// separator, away from Pause.
type tray struct {
	a      *App
	desk   desktop.App
	menu   *fyne.Menu
	status *fyne.MenuItem
	pause  *fyne.MenuItem
	stats  Stats
	warn   string // the history's fault, shown in the status line

	menuShown, iconShown string // what was last pushed to the tray
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
	quit := fyne.NewMenuItem(MenuQuit, nil) // Fyne gives it the app's Quit
	quit.IsQuit = true
	t.menu = fyne.NewMenu("Gatehouse",
		t.status,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(MenuOpen, a.Show),
		fyne.NewMenuItem(MenuShowFailed, a.showFailed),
		fyne.NewMenuItem(MenuCopyOpenAI, func() { a.copyText(a.openAIBase()) }),
		fyne.NewMenuItem(MenuCopyAnthropic, func() { a.copyText(a.anthropicBase()) }),
		fyne.NewMenuItemSeparator(),
		t.pause,
		fyne.NewMenuItemSeparator(),
		quit,
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

// showFailed opens the window on History, filtered to failed calls.
func (a *App) showFailed() {
	a.ShowTab(TabHistory)
	a.history.ShowFailed()
	a.Show()
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

// refresh pushes to the tray what changed: the menu only when its labels did
// (pause state), the icon and the tooltip in place; on the UI thread.
func (t *tray) refresh() {
	paused := t.a.b.Proxy.Paused()
	addr := t.a.b.Proxy.Addr()
	t.status.Label = listenLine(addr, paused)
	if t.warn != "" {
		// A history fault is rare and worth a rebuild of the menu.
		t.status.Label += " · " + t.warn
	}
	t.pause.Label = MenuPause
	if paused {
		t.pause.Label = MenuResume
	}
	if key := t.status.Label + "|" + t.pause.Label; key != t.menuShown {
		t.menuShown = key
		t.desk.SetSystemTrayMenu(t.menu)
	}
	state := trayState(paused, t.a.health.failedRecently())
	dark := t.a.fy.Settings().ThemeVariant() == theme.VariantDark
	if key := fmt.Sprint(state, dark); key != t.iconShown {
		t.iconShown = key
		t.desk.SetSystemTrayIcon(assets.Tray(state, dark))
	}
	// Set each time, after the menu started the tray: on Windows a tooltip set
	// before the tray is ready is dropped.
	setTrayTooltip("Gatehouse: " + statusLine(addr, paused, t.stats))
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

// listenLine is the first line of the tray menu: "Listening on 127.0.0.1:8765".
func listenLine(addr string, paused bool) string {
	if paused {
		return "Paused on " + addr
	}
	return "Listening on " + addr
}

// statusLine is the tray's tooltip:
// "Listening on 127.0.0.1:8765 · 1,204 calls today · 3 failed".
func statusLine(addr string, paused bool, s Stats) string {
	calls := "calls"
	if s.Calls == 1 {
		calls = "call"
	}
	return listenLine(addr, paused) + " · " + thousands(s.Calls) + " " + calls + " today · " + thousands(s.Failed) + " failed"
}
