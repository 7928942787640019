//go:build !windows

package config

// renameHeld is false: only Windows refuses to rename over an open file.
func renameHeld(error) bool { return false }
