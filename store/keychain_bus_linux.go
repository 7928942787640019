package store

import (
	"os"
	"path/filepath"
	"sync"
)

// noSessionBus is the session bus address Gatehouse sets when there is none to
// find: a path that cannot exist, so that the keychain's error names it
// (explainKeychain) and no bus is started.
const noSessionBus = "/dev/null/gatehouse-no-session-bus"

var busChecked sync.Once

// keepDBusFromLaunching stops go-keyring from starting a session bus. With no
// DBUS_SESSION_BUS_ADDRESS and no $XDG_RUNTIME_DIR/bus (SSH, CI, a service),
// godbus runs dbus-launch, and that bus and the keyring daemon it activates
// outlive Gatehouse: one pair per run, each holding inotify instances, until
// the user's limit of 128 ran out. That keyring is locked with no one to
// unlock it anyway; Gatehouse says there is no session bus instead.
func keepDBusFromLaunching() {
	busChecked.Do(func() {
		if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
			return
		}
		if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
			if fi, err := os.Stat(filepath.Join(rd, "bus")); err == nil && fi.Mode()&os.ModeSocket != 0 {
				return // godbus finds the user's bus there
			}
		}
		_ = os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+noSessionBus)
	})
}
