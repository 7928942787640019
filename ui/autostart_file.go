//go:build linux || darwin

package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// setAutostartFile installs (on) or removes the file at path that makes the
// desktop start Gatehouse at login; content builds it from the executable's
// path and args, the flags the app runs with.
func setAutostartFile(path string, on bool, args []string, content func(exe string, args []string) []byte) error {
	if !on {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove start at login: %w", err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	return config.WriteFileAtomic(path, content(exe, args), 0o644)
}
