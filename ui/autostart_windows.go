package ui

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/windows/registry"
)

// runKey is where Windows looks for the current user's programs to start at login.
const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// SetAutostart sets (on) or deletes Gatehouse's value under the Run key; args
// are the flags the app runs with.
func SetAutostart(on bool, args []string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("open Run registry key: %w", err)
	}
	defer k.Close()
	if !on {
		if err := k.DeleteValue("Gatehouse"); err != nil && !errors.Is(err, registry.ErrNotExist) && !errors.Is(err, syscall.ERROR_FILE_NOT_FOUND) {
			return fmt.Errorf("remove start at login: %w", err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	cmd := []string{syscall.EscapeArg(exe)}
	for _, a := range args {
		cmd = append(cmd, syscall.EscapeArg(a))
	}
	if err := k.SetStringValue("Gatehouse", strings.Join(cmd, " ")); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}
