//go:build unix

package proxy

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// waitHangup blocks until the peer of rc closes or resets the connection (true)
// or sends data or the read deadline passes (false). It never consumes data.
func waitHangup(rc syscall.RawConn) bool {
	var buf [1]byte
	gone := false
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := unix.Recvfrom(int(fd), buf[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN || err == unix.EWOULDBLOCK || err == unix.EINTR:
			return false // nothing yet: wait until readable
		case err != nil || n == 0:
			gone = true // reset, or end of file
		}
		return true
	})
	return gone
}
