//go:build !linux

package store

// noSessionBus names no path: only Linux's keychain goes through D-Bus.
const noSessionBus = "\x00"

// keepDBusFromLaunching has nothing to do: only Linux's keychain goes through D-Bus.
func keepDBusFromLaunching() {}
