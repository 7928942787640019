//go:build !linux

package main

import "errors"

// setAutostart is not written yet for this platform (macOS needs a login item,
// Windows a Run registry value).
func setAutostart(on bool, args []string) error {
	if on {
		return errors.New("start at login is not available on this platform yet")
	}
	return nil
}
