package proxy

import (
	"testing"
	"time"
)

// TestLazyDeadlineNeverEarlyAndBoundedLate: a timedConn's deadline is set again
// only when the one armed would fire before the wanted time or more than its
// slack after it; clearing and deadlines in the past (the hang-up watch's way
// to end a wait) always reach the connection.
func TestLazyDeadlineNeverEarlyAndBoundedLate(t *testing.T) {
	var l lazyDeadline
	now := time.Unix(1000, 0)
	armed := time.Time{}
	step := func(now, want time.Time, wantSet bool) {
		t.Helper()
		at, ok := l.next(now, want)
		if ok != wantSet {
			t.Fatalf("next(%v, want %v): set %v, want %v", now.Sub(time.Unix(1000, 0)), want.Sub(now), ok, wantSet)
		}
		if ok {
			armed = at
		}
		switch {
		case want.IsZero() && !armed.IsZero():
			t.Fatalf("wanted no deadline, %v armed", armed)
		case !want.IsZero() && armed.Before(want):
			t.Fatalf("armed %v fires before the wanted %v", armed, want)
		case !want.IsZero() && armed.Sub(want) > max(min(want.Sub(now)/deadlineSlack, time.Second), 0):
			t.Fatalf("armed %v fires %v after the wanted %v", armed, armed.Sub(want), want)
		}
	}
	step(now, now.Add(60*time.Second), true)
	step(now.Add(time.Millisecond), now.Add(time.Millisecond+60*time.Second), false) // busy connection: no update
	step(now.Add(2*time.Second), now.Add(62*time.Second), true)                      // the armed one would fire early
	step(now.Add(2*time.Second), now.Add(2*time.Second+100*time.Millisecond), true)  // shorter: it would fire too late
	step(now.Add(2*time.Second), time.Time{}, true)
	step(now.Add(2*time.Second), time.Time{}, false)
	step(now.Add(3*time.Second), time.Unix(1, 0), true) // in the past: exactly
	step(now.Add(3*time.Second), time.Unix(1, 0), false)
	l.set(time.Time{}) // a TLS handshake cleared it directly
	step(now.Add(3*time.Second), now.Add(4*time.Second), true)
}
