//go:build !linux

package ui

// ReleaseImagePages has nothing to do here: other systems count and trim a
// process's working set their own way.
func ReleaseImagePages() {}
