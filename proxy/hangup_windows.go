//go:build windows

package proxy

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// waitHangup blocks until the peer of rc closes or resets the connection (true)
// or sends data or the read deadline passes (false). It never consumes data.
// Windows sockets block, so the peek runs only once the runtime's zero-byte
// read has reported the socket readable.
func waitHangup(rc syscall.RawConn) bool {
	var buf [1]byte
	first, gone := true, false
	err := rc.Read(func(fd uintptr) bool {
		if first {
			first = false
			return false
		}
		n, _, err := windows.Recvfrom(windows.Handle(fd), buf[:], windows.MSG_PEEK)
		if err != nil || n == 0 {
			gone = true
		}
		return true
	})
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		gone = true // the zero-byte read failed: reset
	}
	return gone
}
