package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// setAutostart installs (on) or removes the LaunchAgent that starts Gatehouse
// at login; args are the flags the app runs with.
func setAutostart(on bool, args []string) error {
	home, err := os.UserHomeDir()
	if err != nil {
		return fmt.Errorf("find LaunchAgents folder: %w", err)
	}
	path := filepath.Join(home, "Library", "LaunchAgents", launchAgentLabel+".plist")
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove login item: %w", err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("login item: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("login item: %w", err)
	}
	return writeFileAtomic(path, launchAgentPlist(exe, args), 0o644)
}
