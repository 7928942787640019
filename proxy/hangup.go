package proxy

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// statusClientClosed is the status recorded for a call whose client hung up
// before it got an answer (nginx's 499; no client ever sees it).
const statusClientClosed = 499

// hangupWatchDelay is how long a call runs before its client connection is
// watched: most calls are over by then, and are spared the goroutine and the
// syscalls. A hang-up is noticed at most hangupWatchDelay plus one sweep
// (hangupWatchDelay/2) late; once the watch runs, at once.
const hangupWatchDelay = 20 * time.Millisecond

// hangups starts the hang-up watches of the calls that have run
// hangupWatchDelay. fasthttp gives no hang-up signal, so a watch waits for the
// client connection to become readable and peeks at it: end of file or a reset
// means the client is gone; data (a pipelined request) means it is alive, and
// the watch ends (issue 19.7).
//
// One sweeper goroutine serves every call, and runs only while calls are
// waiting: a timer per call woke an idle thread on every call and doubled the
// latency Gatehouse adds at concurrency 1.
type hangups struct {
	mu      sync.Mutex
	waiting []*hangupWatch // registered and not started, oldest first
	running bool           // the sweeper goroutine runs
}

// hangupWatch is one call's watch. state is guarded by hangups.mu.
type hangupWatch struct {
	h     *hangups
	conn  net.Conn
	c     interface{ hungUp() }
	since time.Time
	state watchState
	done  chan struct{} // closed when a started watch ends
}

type watchState uint8

const (
	watchWaiting watchState = iota
	watchStarted
	watchStopped
)

// watch registers a call that started at since and whose handler now works
// on conn, in w (the call's own, so that a watch costs no allocation);
// c.hungUp runs at most once, if the client closes conn before stop. stop
// must be called before the handler returns, which then owns the connection
// again.
func (h *hangups) watch(w *hangupWatch, conn net.Conn, c interface{ hungUp() }, since time.Time) *hangupWatch {
	if _, ok := conn.(syscall.Conn); !ok {
		return nil
	}
	*w = hangupWatch{h: h, conn: conn, c: c, since: since}
	h.mu.Lock()
	h.waiting = append(h.waiting, w)
	if !h.running {
		h.running = true
		go h.sweep()
	}
	h.mu.Unlock()
	return w
}

// sweep starts the watches that are due, every hangupWatchDelay/2, until none
// is waiting.
func (h *hangups) sweep() {
	for {
		time.Sleep(hangupWatchDelay / 2)
		now := time.Now()
		h.mu.Lock()
		kept := h.waiting[:0]
		for _, w := range h.waiting {
			switch {
			case w.state == watchStopped:
			case now.Sub(w.since) >= hangupWatchDelay:
				w.state = watchStarted
				w.done = make(chan struct{})
				// The server's ReadTimeout deadline is still armed (the
				// handler leaves it): lifted here, under h.mu, so that it
				// comes before stop's deadline in the past.
				_ = w.conn.SetReadDeadline(time.Time{})
				go w.run()
			default:
				kept = append(kept, w)
			}
		}
		clear(h.waiting[len(kept):]) // let stopped watches be collected
		h.waiting = kept
		if len(kept) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
}

func (w *hangupWatch) run() {
	defer close(w.done)
	rc, err := w.conn.(syscall.Conn).SyscallConn()
	if err != nil {
		return
	}
	if waitHangup(rc) {
		w.c.hungUp()
	}
}

// stop ends the watch; the connection is the handler's again.
func (w *hangupWatch) stop() {
	if w == nil {
		return
	}
	w.h.mu.Lock()
	started := w.state == watchStarted
	w.state = watchStopped
	w.h.mu.Unlock()
	if !started {
		return // the sweeper drops it
	}
	// A deadline in the past ends the poller's wait.
	_ = w.conn.SetReadDeadline(time.Unix(1, 0))
	<-w.done
	_ = w.conn.SetReadDeadline(time.Time{})
}
