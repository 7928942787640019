package proxy

import (
	"net"
	"syscall"
	"time"
)

// statusClientClosed is the status recorded for a call whose client hung up
// before it got an answer (nginx's 499; no client ever sees it).
const statusClientClosed = 499

// watchHangup calls gone, once, when the client closes conn while the handler
// works and nothing has been sent yet. fasthttp gives no such signal, so the
// watcher waits for the connection to become readable and peeks at it: end of
// file or a reset means the client is gone; data (a pipelined request) means it
// is alive, and the watch ends. The wait is the runtime's poller, so a hang-up
// is noticed at once (issue 19.7). stop ends the watch; it must be called
// before the handler returns, which then owns the connection again.
func watchHangup(conn net.Conn, gone func()) (stop func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if waitHangup(rc) {
			gone()
		}
	}()
	return func() {
		// A deadline in the past ends the poller's wait.
		_ = conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		_ = conn.SetReadDeadline(time.Time{})
	}
}
