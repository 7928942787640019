//go:build !linux

package ui

// notificationsMissing returns nil: macOS and Windows always have a
// notification centre.
func notificationsMissing() error { return nil }
