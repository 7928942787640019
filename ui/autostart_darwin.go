package ui

import (
	"fmt"
	"os"
	"path/filepath"
)

// SetAutostart installs (on) or removes the LaunchAgent that starts Gatehouse
// at login; args are the flags the app runs with.
func SetAutostart(on bool, args []string) error {
	home, err := os.UserHomeDir()
	if err != nil {
		return fmt.Errorf("find LaunchAgents folder: %w", err)
	}
	return setAutostartFile(filepath.Join(home, "Library", "LaunchAgents", launchAgentLabel+".plist"), on, args, launchAgentPlist)
}
