//go:build !windows

package cli

// AttachConsole does nothing: only Windows starts a program without the
// terminal it was typed in.
func AttachConsole() {}

// noConsoleInput is "": stdin is the terminal's.
func noConsoleInput() string { return "" }
