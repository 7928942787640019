//go:build !unix && !windows

package proxy

import "syscall"

// waitHangup cannot peek on this platform: hang-ups are noticed only when a
// write fails.
func waitHangup(syscall.RawConn) bool { return false }
