//go:build !linux && !darwin && !windows

package ui

import "errors"

// SetAutostart has no login mechanism to use on this platform.
func SetAutostart(on bool, args []string) error {
	if on {
		return errors.New("start at login is not available on this platform")
	}
	return nil
}
