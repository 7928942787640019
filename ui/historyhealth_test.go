package ui

import (
	"strings"
	"sync"
	"testing"
)

// faultyHistory is a History whose store reports a fault.
type faultyHistory struct {
	History
	mu       sync.Mutex
	degraded string
}

func (f *faultyHistory) Health() (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.degraded, ""
}

// TestOverviewAndTraySayHistoryIsDegraded: a full disk shows on the Overview and
// in the tray's status line, and goes away once recording works again.
func TestOverviewAndTraySayHistoryIsDegraded(t *testing.T) {
	e := newTestEnv(t)
	fh := &faultyHistory{History: e.b.History, degraded: "the disk holding /data is full: calls are not being recorded until space is freed"}
	e.b.History = fh
	a := newTestApp(t, e)
	desk := &fakeDesktop{}
	a.enableTray(desk, true)
	warn := a.overview.history
	pump(t, "history warning", func() bool { return warn.Visible() })
	if !strings.Contains(warn.Text, "History degraded: the disk holding /data is full") {
		t.Errorf("overview warning %q", warn.Text)
	}
	a.refreshStats() // the tray came after the first refresh
	pump(t, "tray warning", func() bool {
		return desk.menu != nil && strings.Contains(desk.menu.Items[0].Label, "History degraded: the disk holding /data is full")
	})
	fh.mu.Lock()
	fh.degraded = ""
	fh.mu.Unlock()
	a.refreshStats()
	pump(t, "warning gone", func() bool { return !warn.Visible() && !strings.Contains(desk.menu.Items[0].Label, "History") })
}
