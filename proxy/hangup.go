package proxy

import (
	"net"
	"syscall"
	"time"
)

// statusClientClosed is the status recorded for a call whose client hung up
// before it got an answer (nginx's 499; no client ever sees it).
const statusClientClosed = 499

// watchHangup calls c.hungUp when the client closes conn while the handler
// works and nothing has been sent yet. fasthttp gives no such signal, so the
// watcher waits for the connection to become readable and peeks at it: end of
// file or a reset means the client is gone; data (a pipelined request) means it
// is alive, and the watch ends. The wait is the runtime's poller, so once the
// watch runs a hang-up is noticed at once (issue 19.7). It starts only after
// hangupWatchDelay: most calls are over by then, and spare the goroutine and
// the syscalls. stop ends the watch; it must be called before the handler
// returns, which then owns the connection again. c.hungUp runs at most once.
func watchHangup(conn net.Conn, c interface{ hungUp() }) hangupWatch {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return hangupWatch{}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return hangupWatch{}
	}
	w := hangupWatch{conn: conn, done: make(chan struct{})}
	done := w.done
	w.t = time.AfterFunc(hangupWatchDelay, func() {
		defer close(done)
		if waitHangup(rc) {
			c.hungUp()
		}
	})
	return w
}

// hangupWatch is a running watchHangup.
type hangupWatch struct {
	conn net.Conn
	t    *time.Timer
	done chan struct{}
}

// stop ends the watch; the connection is the handler's again.
func (w hangupWatch) stop() {
	if w.t == nil || w.t.Stop() {
		return // no watch, or it never started
	}
	// A deadline in the past ends the poller's wait.
	_ = w.conn.SetReadDeadline(time.Unix(1, 0))
	<-w.done
	_ = w.conn.SetReadDeadline(time.Time{})
}

// hangupWatchDelay is how long a call runs before its client connection is
// watched; a client that hangs up is noticed at most this late.
const hangupWatchDelay = 20 * time.Millisecond
