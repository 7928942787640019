package ui

import (
	"errors"
	"slices"

	"github.com/godbus/dbus/v5"
)

// notifierName is the D-Bus name of the desktop's notification service, which
// Fyne's SendNotification talks to.
const notifierName = "org.freedesktop.Notifications"

// notificationsMissing says why desktop notifications cannot be shown, or
// returns nil when a notification service runs or can be started. Without
// one, Fyne only logs "Failed to send message" (issue 16 §5).
func notificationsMissing() error {
	conn, err := dbus.SessionBus() // shared with systray and go-keyring: never Close it
	if err != nil {
		return errors.New("no D-Bus session bus")
	}
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, notifierName).Store(&owned); err == nil && owned {
		return nil
	}
	var names []string
	if err := conn.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err == nil && slices.Contains(names, notifierName) {
		return nil
	}
	return errors.New("no notification service (" + notifierName + ") on this desktop")
}
