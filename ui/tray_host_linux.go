package ui

import (
	"log/slog"

	"github.com/godbus/dbus/v5"
)

// SetUpTray puts the app in the tray when the session can show it. Without a
// session bus the tray is skipped: Fyne's systray would panic on Quit (nil
// D-Bus connection, PLATFORM.md). Closing the window hides it only when a
// StatusNotifier watcher is there to bring it back; otherwise closing quits.
func (a *App) SetUpTray(log *slog.Logger) {
	conn, err := dbus.SessionBus() // shared with systray and go-keyring: never Close it
	if err != nil {
		log.Info("no D-Bus session bus: running without a tray icon", "err", err)
		return
	}
	var watched bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&watched); err != nil {
		log.Info("cannot ask D-Bus for a tray host", "err", err)
	}
	if !watched {
		log.Info("no tray host (StatusNotifierWatcher) on this desktop: closing the window quits Gatehouse")
	}
	a.EnableTray(watched)
}
