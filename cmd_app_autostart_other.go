//go:build !linux && !darwin && !windows

package main

import "errors"

// setAutostart has no login mechanism to use on this platform.
func setAutostart(on bool, args []string) error {
	if on {
		return errors.New("start at login is not available on this platform")
	}
	return nil
}
