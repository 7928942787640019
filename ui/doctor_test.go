package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy/doctor"
)

// TestCheckNowShowsTheVerdict: "Check now" on a provider row and on a failed
// call's detail runs the doctor for that provider (and the call's model) and
// shows the verdict and each check in a dialog.
func TestCheckNowShowsTheVerdict(t *testing.T) {
	e := newTestEnv(t)
	var mu sync.Mutex
	var asked []string
	e.b.Doctor = func(_ context.Context, what string) ([]doctor.Report, error) {
		mu.Lock()
		asked = append(asked, what)
		mu.Unlock()
		return []doctor.Report{{Provider: "openai", Failed: true,
			Verdict: "openai: TCP connect fails: 127.0.0.1:9 refused the connection. Fix: is the server running?",
			Checks: []doctor.Check{
				{Name: doctor.CheckDNS, Status: doctor.OK, Detail: "127.0.0.1 is an IP address: nothing to resolve"},
				{Name: doctor.CheckTCP, Status: doctor.Fail, Detail: "127.0.0.1:9 refused the connection", Fix: "is the server running?"},
			}}}, nil
	}
	for _, c := range sampleCalls(10, time.Now()) {
		e.add(c)
	}
	a := newTestApp(t, e)
	p := a.providers
	pump(t, "provider list", func() bool { return len(p.providers) > 0 })
	a.checkNow("openai")
	shown := func() string {
		var out []string
		for _, o := range a.Window().Canvas().Overlays().List() {
			for _, c := range test.LaidOutObjects(o) {
				if l, ok := c.(*widget.Label); ok {
					out = append(out, l.Text)
				}
			}
		}
		return strings.Join(out, "\n")
	}
	pump(t, "doctor verdict", func() bool { return strings.Contains(shown(), "TCP connect fails") })
	for _, want := range []string{"DNS: 127.0.0.1 is an IP address", "TCP connect: 127.0.0.1:9 refused the connection\nFix: is the server running?"} {
		if !strings.Contains(shown(), want) {
			t.Errorf("dialog shows %q, want %q", shown(), want)
		}
	}

	a.ShowTab(TabHistory)
	h := a.history
	h.show.SetSelected(ShowFailed)
	pump(t, "failed calls", func() bool { return !h.loading && len(h.calls) > 0 })
	h.table.Select(widget.TableCellID{Row: 0})
	d := h.detail
	pump(t, "detail", func() bool { return d.call != nil && d.body.Visible() })
	if !d.checkNow.Visible() {
		t.Fatal("a failed call's detail has no Check now button")
	}
	test.Tap(d.checkNow)
	pump(t, "second check", func() bool { mu.Lock(); defer mu.Unlock(); return len(asked) == 2 })
	if asked[1] != "openai/gpt-4o" {
		t.Errorf("Check now on a failed call checked %q, want its provider and model", asked[1])
	}
}
