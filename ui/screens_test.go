package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/store"
)

// newTestApp builds the app on e in a temporary Fyne test app.
func newTestApp(t testing.TB, e *testEnv) *App {
	t.Helper()
	fy := test.NewTempApp(t)
	a := New(fy, e.b)
	t.Cleanup(func() {
		a.Close()
		drain()
	})
	a.Window().Resize(fyne.NewSize(1200, 800))
	drain()
	return a
}

// assertNotRendered fails if any text drawn in w (window and overlays)
// contains secret.
func assertNotRendered(t *testing.T, w fyne.Window, secret string) {
	t.Helper()
	roots := []fyne.CanvasObject{w.Canvas().Content()}
	roots = append(roots, w.Canvas().Overlays().List()...)
	for _, r := range roots {
		for _, o := range test.LaidOutObjects(r) {
			if txt, ok := o.(*canvas.Text); ok && strings.Contains(txt.Text, secret[4:]) {
				t.Fatalf("the window draws %q", txt.Text)
			}
		}
	}
}

// newBenchApp is newTestApp for benchmarks that close the app themselves.
func newBenchApp(b *testing.B, e *testEnv) *App {
	b.Helper()
	fy := test.NewTempApp(b)
	a := New(fy, e.b)
	a.Window().Resize(fyne.NewSize(1200, 800))
	drain()
	return a
}

// labels returns the texts of every label under o.
func labels(o fyne.CanvasObject) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case *widget.Card:
			walk(w.Content)
		case *tappableBox:
			walk(w.content)
		case *container.Scroll:
			walk(w.Content)
		}
	}
	walk(o)
	return out
}

func TestHistoryFailedOnlyShowsAttempts(t *testing.T) {
	e := newTestEnv(t)
	for _, c := range sampleCalls(50, time.Now()) {
		e.add(c)
	}
	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	h := a.history
	pump(t, "first page", func() bool { return len(h.calls) == 50 })

	h.show.SetSelected(ShowFailed)
	pump(t, "failed calls only", func() bool { return !h.loading && len(h.calls) > 0 && len(h.calls) < 50 })
	for _, c := range h.calls {
		if c.Outcome == store.OutcomeOK {
			t.Fatalf("failed-only list shows ok call %s", c.ID)
		}
	}
	if len(h.calls) != 7 { // i%7 == 3 for i < 50
		t.Errorf("failed-only list has %d calls, want 7", len(h.calls))
	}

	h.table.Select(widget.TableCellID{Row: 0})
	d := h.detail
	pump(t, "detail", func() bool { return d.call != nil && d.call.ID == h.calls[0].ID && d.body.Visible() })
	// The window opens at 1180×760: its content must fit, detail included, in
	// the real theme's sizes.
	a.fy.Settings().SetTheme(theme.DefaultTheme())
	if min := a.Window().Content().MinSize(); min.Width > 1180 || min.Height > 760 {
		t.Errorf("window content needs %v, more than the 1180×760 window", min)
	}
	if got := len(d.attempts.Objects); got != 3 {
		t.Errorf("attempts timeline has %d rows, want 3", got)
	}
	timeline := strings.Join(labels(d.attempts), " | ")
	for _, want := range []string{"#1  openai/gpt-4o", "#3  openai/gpt-4o", "502 server error", "waited 500 ms"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline %q lacks %q", timeline, want)
		}
	}
	if got, want := d.diagnosis.Text, "openai's gateway answered 502 3 times: its service is degraded"; !strings.Contains(strings.ToLower(got), strings.ToLower(want)) || !d.diagCard.Visible() {
		t.Errorf("diagnosis %q, want it to say %q", got, want)
	}
	if got := strings.Join(d.response.Text(), "\n"); !strings.Contains(got, `"message": "Bad Gateway"`) {
		t.Errorf("response tab shows %q, want the pretty-printed error body", got)
	}
}

func TestHistoryIsLiveAndNewestFirst(t *testing.T) {
	e := newTestEnv(t)
	for _, c := range sampleCalls(5, time.Now()) {
		e.add(c)
	}
	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	h := a.history
	pump(t, "first page", func() bool { return len(h.calls) == 5 })
	fresh := at(sampleCalls(1, time.Now())[0], time.Now())
	fresh.Path = "/v1/messages"
	e.add(fresh)
	pump(t, "live call", func() bool { return len(h.calls) == 6 })
	if h.calls[0].ID != fresh.ID {
		t.Errorf("first row is %s, want the new call %s", h.calls[0].ID, fresh.ID)
	}
	for i := 1; i < len(h.calls); i++ {
		if h.calls[i-1].ID < h.calls[i].ID {
			t.Fatalf("rows %d and %d are oldest first", i-1, i)
		}
	}
}

func TestHistoryPagesOnScroll(t *testing.T) {
	e := newTestEnv(t)
	for _, c := range sampleCalls(3*historyPage+10, time.Now()) {
		e.add(c)
	}
	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	h := a.history
	pump(t, "first page", func() bool { return len(h.calls) == historyPage && !h.loading })
	if h.next == "" {
		t.Fatal("first page says there is nothing older")
	}
	for want := 2 * historyPage; want <= 3*historyPage; want += historyPage {
		h.table.ScrollToBottom()
		pump(t, fmt.Sprintf("%d rows", want), func() bool { return len(h.calls) >= want && !h.loading })
	}
	h.table.ScrollToBottom()
	pump(t, "every row", func() bool { return len(h.calls) == 3*historyPage+10 && h.next == "" })
}

func TestAddProvider(t *testing.T) {
	e := newTestEnv(t)
	a := newTestApp(t, e)
	a.ShowTab(TabProviders)
	p := a.providers
	pump(t, "provider list", func() bool { return len(p.providers) > 0 })
	before := len(p.providers)

	test.Tap(p.add)
	f := p.form
	if f == nil {
		t.Fatal("Add provider opened no form")
	}
	test.Type(f.name, "My Server") // invalid: spaces and capitals
	test.Type(f.baseURL, "http://127.0.0.1:9000/v1")
	test.Tap(f.save)
	if !strings.Contains(f.errText.Text, "lowercase") {
		t.Errorf("bad name gave error %q, want one about the name", f.errText.Text)
	}
	f.name.SetText("")
	test.Type(f.name, "my-server")
	if f.errText.Text != "" {
		t.Errorf("the name is fixed, yet the form still says %q", f.errText.Text)
	}
	f.auth.SetSelected("header")
	if !f.authOpt.Visible() {
		t.Error("auth header shows no field for the header name")
	}
	test.Tap(f.save)
	if !strings.Contains(f.errText.Text, "header") {
		t.Errorf("auth header without a name gave %q", f.errText.Text)
	}
	test.Type(f.authOpt, "X-Auth-Token")
	if f.errText.Text != "" {
		t.Errorf("the header is named, yet the form still says %q", f.errText.Text)
	}
	test.Type(f.keyCheck, "/v1/status")
	f.format.SetSelected("anthropic")
	test.Type(f.models, "claude-*, local-*")
	const secret = "sk-ant-test-0123456789abcdef"
	test.Type(f.key, secret)
	test.Tap(f.save)
	pump(t, "saved provider in list", func() bool { return len(p.providers) == before+1 && p.form == nil })

	got, ok := e.conf.Current().Provider("my-server")
	if !ok {
		t.Fatal("my-server was not saved to the config")
	}
	if got.Format != "anthropic" || got.BaseURL != "http://127.0.0.1:9000/v1" || strings.Join(got.Models, ",") != "claude-*,local-*" ||
		got.Auth != "header" || got.AuthOptions.Header != "X-Auth-Token" || got.KeyCheck != "/v1/status" {
		t.Errorf("saved %+v, want anthropic at http://127.0.0.1:9000/v1 with two globs, auth header X-Auth-Token, key check /v1/status", got)
	}
	if e.keys.keys["my-server"] != secret {
		t.Errorf("keychain holds %q for my-server, want the typed key", e.keys.keys["my-server"])
	}
	if f.key.Text != "" {
		t.Error("the key field still holds the key after saving")
	}
	if st := p.status["my-server"]; st.Source != KeyKeychain {
		t.Errorf("my-server key status %+v, want keychain", st)
	}
	// The key is never shown: only its mask.
	assertNotRendered(t, a.Window(), secret)
}

func TestProvidersSayWhenKeychainIsMissing(t *testing.T) {
	e := newTestEnv(t)
	e.keys.err = fmt.Errorf("no Secret Service found on D-Bus: install and unlock gnome-keyring or KWallet, or set OPENAI_API_KEY")
	a := newTestApp(t, e)
	p := a.providers
	pump(t, "keychain banner", func() bool { return p.keychain.Visible() })
	if !strings.Contains(p.keychain.Text, "gnome-keyring") {
		t.Errorf("banner says %q, want how to fix it", p.keychain.Text)
	}
}

func TestProviderTestShowsResultInline(t *testing.T) {
	e := newTestEnv(t)
	e.keys.tests = map[string]error{"openai": fmt.Errorf("401 invalid key")}
	a := newTestApp(t, e)
	p := a.providers
	pump(t, "provider list", func() bool { return len(p.providers) > 0 })
	p.test("openai")
	pump(t, "test result", func() bool { return strings.HasPrefix(p.results["openai"], "✗") })
	if !strings.Contains(p.results["openai"], "401 invalid key") {
		t.Errorf("inline result %q, want the provider's error", p.results["openai"])
	}
}

func TestCopyAsCurlHasNoKey(t *testing.T) {
	e := newTestEnv(t)
	const key = "sk-proj-SECRET0123456789"
	c := sampleCalls(1, time.Now())[0]
	c.Request.HeaderBlock = []byte("Content-Type: application/json\nAuthorization: Bearer " + key + "\nX-Custom-Token: " + key + "\nOpenAI-Organization: org-1\n")
	e.add(c)
	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	h := a.history
	pump(t, "first page", func() bool { return len(h.calls) == 1 })
	h.table.Select(widget.TableCellID{Row: 0})
	pump(t, "detail", func() bool { return h.detail.call != nil })
	test.Tap(h.detail.copyCurl)
	got := a.fy.Clipboard().Content()
	if strings.Contains(got, key) {
		t.Fatalf("curl command contains the key:\n%s", got)
	}
	for _, want := range []string{"curl 'http://127.0.0.1:8765/v1/chat/completions'", "Authorization: Bearer $OPENAI_API_KEY", "OpenAI-Organization: org-1", `--data-binary '{"model":"gpt-4o"`} {
		if !strings.Contains(got, want) {
			t.Errorf("curl command lacks %q:\n%s", want, got)
		}
	}
	test.Tap(h.detail.copyJSON)
	if j := a.fy.Clipboard().Content(); !strings.Contains(j, `"id": "`+c.ID+`"`) || !strings.Contains(j, `"attempts"`) {
		t.Errorf("Copy JSON gave %.200q, want the call's JSON", j)
	}
}

func TestOverviewAndTrayShowToday(t *testing.T) {
	e := newTestEnv(t)
	now := time.Now()
	for _, c := range sampleCalls(14, now) {
		e.add(c)
	}
	a := newTestApp(t, e)
	desk := &fakeDesktop{}
	a.enableTray(desk, true)
	pump(t, "stats", func() bool { return a.overview.calls.Text != "–" })
	if got := a.overview.calls.Text; got != "14" && startOfDay(now).Before(now.Add(-time.Hour)) {
		t.Errorf("overview shows %s calls today, want 14", got)
	}
	// Big figures must not widen the window past its 1180 px.
	a.fy.Settings().SetTheme(theme.DefaultTheme())
	a.overview.update(Stats{Calls: 1_234_567, Failed: 123_456, InputTokens: 987_654_321, OutputTokens: 123_456_789}, nil)
	if got := a.overview.tokens.Text; got != "987.7M / 123.5M" {
		t.Errorf("tokens figure %q", got)
	}
	if min := a.overview.content.MinSize(); min.Width > 1000 {
		t.Errorf("overview with big figures needs %v", min)
	}
	if min := a.Window().Content().MinSize(); min.Width > 1180 {
		t.Errorf("the window needs %v, more than its 1180 px", min)
	}
	if desk.menu == nil {
		t.Fatal("no tray menu")
	}
	checkTrayMenu(t, desk.menu, MenuPause)
	if !strings.HasPrefix(trayTip, "Gatehouse: Listening on 127.0.0.1:8765 · ") || !strings.Contains(trayTip, "failed") {
		t.Errorf("tray tooltip %q, want the status with today's figures", trayTip)
	}
	// New figures change the tooltip in place; the menu is never pushed again
	// for them (an open menu would re-lay itself out under the pointer).
	pushes := desk.menus
	a.tray.update(Stats{Calls: 99, Failed: 4})
	if desk.menus != pushes || !strings.Contains(trayTip, "99 calls today · 4 failed") {
		t.Errorf("new stats: menu pushed %d more times, tooltip %q", desk.menus-pushes, trayTip)
	}
	item := func(label string) *fyne.MenuItem {
		for _, it := range desk.menu.Items {
			if it.Label == label {
				return it
			}
		}
		t.Fatalf("no tray item %q", label)
		return nil
	}
	item(MenuCopyOpenAI).Action()
	if got := a.fy.Clipboard().Content(); got != "http://127.0.0.1:8765/v1" {
		t.Errorf("Copy OpenAI base URL copied %q", got)
	}
	item(MenuPause).Action()
	if !e.proxy.Paused() {
		t.Error("Pause proxy did not pause the proxy")
	}
	checkTrayMenu(t, desk.menu, MenuResume)
	if !strings.HasPrefix(desk.menu.Items[0].Label, "Paused on") || desk.menus != pushes+1 {
		t.Errorf("after pausing the tray shows %q, menu pushed %d times", desk.menu.Items[0].Label, desk.menus-pushes)
	}
	if desk.icon == nil || !strings.Contains(desk.icon.Name(), "paused") {
		t.Errorf("tray icon %v, want the paused one", desk.icon)
	}
	item(MenuShowFailed).Action()
	drain()
	if a.tabs.Selected().Text != TabHistory || a.history.show.Selected != ShowFailed {
		t.Errorf("Show failed calls opened tab %q with filter %q", a.tabs.Selected().Text, a.history.show.Selected)
	}
}

// checkTrayMenu checks the tray menu's order: status, the actions, then Pause
// (or Resume) and Quit, each after a separator, Quit last.
func checkTrayMenu(t *testing.T, m *fyne.Menu, pause string) {
	t.Helper()
	var names []string
	for _, it := range m.Items {
		if it.IsSeparator {
			names = append(names, "—")
		} else {
			names = append(names, it.Label)
		}
	}
	want := []string{names[0], "—", MenuOpen, MenuShowFailed, MenuCopyOpenAI, MenuCopyAnthropic, "—", pause, "—", MenuQuit}
	if strings.Join(names, "|") != strings.Join(want, "|") || !m.Items[len(m.Items)-1].IsQuit {
		t.Errorf("tray menu %q, want %q with Quit last", names, want)
	}
}

// A call that failed 3 minutes before the app started shows in the tray icon
// (issue 16 §5: it was green after a restart).
func TestTrayIconStartsFromHistory(t *testing.T) {
	e := newTestEnv(t)
	e.add(at(sampleCalls(4, time.Now())[3], time.Now().Add(-3*time.Minute))) // a failed one
	a := newTestApp(t, e)
	desk := &fakeDesktop{}
	a.enableTray(desk, true)
	pump(t, "failure icon", func() bool { return desk.icon != nil && strings.Contains(desk.icon.Name(), "failures") })
}

func TestSettingsSave(t *testing.T) {
	e := newTestEnv(t)
	e.b.Version = "0.1.0+32a75a17bc48"
	a := newTestApp(t, e)
	s := a.settings
	if !rendersText(s.content, "Gatehouse 0.1.0+32a75a17bc48") {
		t.Error("Settings does not show the version and commit")
	}
	// Durations read as people write them (issue 16 §5: "1m0s", "720h0m0s").
	if s.firstByte.Text != "1m" || s.maxAge.Text != "30 days" || s.baseDelay.Text != "250ms" {
		t.Errorf("durations shown as %q, %q, %q; want 1m, 30 days, 250ms", s.firstByte.Text, s.maxAge.Text, s.baseDelay.Text)
	}
	s.firstByte.SetText("90s")
	s.origins.SetText("http://localhost:3000, http://localhost:5173")
	s.circuitCooldown.SetText("2m")
	s.routes.SetText("smart = openai/gpt-4o, anthropic/claude-sonnet-4-5")
	test.Tap(s.notifications) // on by default: turn off
	test.Tap(s.save)
	pump(t, "saved", func() bool { return strings.HasPrefix(s.result.Text, "Saved") })
	cfg := e.conf.Current()
	if cfg.Retry.FirstByteTimeout.Duration != 90*time.Second || len(cfg.AllowOrigins) != 2 || cfg.App.NotificationsEnabled() ||
		cfg.Retry.CircuitCooldown.Duration != 2*time.Minute || len(cfg.Routes) != 1 || len(cfg.Routes[0].Targets) != 2 {
		t.Errorf("saved first byte %v, origins %v, notifications %v, cooldown %v, routes %+v", cfg.Retry.FirstByteTimeout,
			cfg.AllowOrigins, cfg.App.NotificationsEnabled(), cfg.Retry.CircuitCooldown, cfg.Routes)
	}
	// Only what changed went into the file: no default was written.
	file := string(e.conf.src)
	for _, want := range []string{`first_byte_timeout = "1m30s"`, `circuit_cooldown = "2m0s"`, "notifications = false", `targets = ["openai/gpt-4o", "anthropic/claude-sonnet-4-5"]`} {
		if !strings.Contains(file, want) {
			t.Errorf("config file lacks %q:\n%s", want, file)
		}
	}
	for _, unwanted := range []string{"listen", "attempts", "max_age", "base_delay", "on_status", "start_at_login", "body_cap_bytes"} {
		if strings.Contains(file, unwanted) {
			t.Errorf("config file got the unchanged %s:\n%s", unwanted, file)
		}
	}
	if s.firstByte.Text != "90s" {
		t.Errorf("after saving the form shows %q", s.firstByte.Text)
	}
	before := string(e.conf.src)
	test.Tap(s.save)
	pump(t, "saved again", func() bool { return strings.HasPrefix(s.result.Text, "Nothing changed") })
	if string(e.conf.src) != before {
		t.Errorf("saving unchanged settings rewrote the file:\n%s", e.conf.src)
	}
	s.idle.SetText("soon")
	test.Tap(s.save)
	if !strings.Contains(s.result.Text, "idle timeout") {
		t.Errorf("bad duration gave %q", s.result.Text)
	}
}

// Closing the window with a tray host frees the window (and its GL context)
// instead of hiding it; Open builds a new one around the same screens, on the
// tab and at the size the user left.
func TestCloseToTrayFreesWindowAndOpenBringsItBack(t *testing.T) {
	e := newTestEnv(t)
	fy := test.NewTempApp(t)
	a := New(fy, e.b)
	t.Cleanup(func() {
		a.Close()
		drain()
	})
	desk := &fakeDesktop{}
	a.enableTray(desk, true)
	closed := 0
	a.OnWindowClosed = func() { closed++ }
	first := a.Window()
	first.Resize(fyne.NewSize(1000, 700))
	a.ShowTab(TabHistory)
	drain()

	a.closeWindowToTray()
	if a.win != nil || closed != 1 {
		t.Fatalf("after closing to the tray: window %v, OnWindowClosed ran %d times", a.win, closed)
	}
	for _, w := range fy.Driver().AllWindows() {
		if w == first {
			t.Fatal("the closed window is still one of the app's windows")
		}
	}
	var open *fyne.MenuItem
	for _, it := range desk.menu.Items {
		if it.Label == MenuOpen {
			open = it
		}
	}
	if open == nil {
		t.Fatal("no Open item in the tray menu")
	}
	open.Action()
	drain()
	second := a.Window()
	if second == first || second.Content() != a.tabs {
		t.Fatalf("Open gave window %p (first %p) with content %T", second, first, second.Content())
	}
	if got := a.tabs.Selected().Text; got != TabHistory {
		t.Errorf("reopened on tab %q, want %q", got, TabHistory)
	}
	if got := second.Canvas().Size(); got.Width != 1000 || got.Height != 700 {
		t.Errorf("reopened at %v, want the 1000×700 the user left", got)
	}
}

// rendersText reports whether a label under o shows text.
func rendersText(o fyne.CanvasObject, text string) bool {
	for _, c := range test.LaidOutObjects(o) {
		if l, ok := c.(*widget.Label); ok && l.Text == text {
			return true
		}
	}
	return false
}

// The 24-hour chart zooms to the hour that has calls, tells the counts of the
// bar under the pointer, and a click on a bar lists its calls (issue 16 §5).
func TestChartZoomsHoversAndOpensHistory(t *testing.T) {
	e := newTestEnv(t)
	now := time.Now()
	for _, c := range sampleCalls(14, now) {
		e.add(c)
	}
	a := newTestApp(t, e)
	ch := a.overview.chart
	pump(t, "chart data", func() bool { return len(ch.all) > 0 })
	if n := len(ch.shown); n < chartMinSpan || n > chartMinSpan+2 {
		t.Errorf("the chart shows %d buckets, want about an hour's %d", n, chartMinSpan)
	}
	if ch.yTop.Text == "" || ch.xLabels[0].Text == "" {
		t.Errorf("axis labels %q / %q", ch.yTop.Text, ch.xLabels[0].Text)
	}
	i := -1
	for k, b := range ch.shown {
		if b.Calls > 0 {
			i = k
			break
		}
	}
	w := ch.Size().Width - chartGutter
	x := chartGutter + (float32(i)+0.5)*w/float32(len(ch.shown))
	ch.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x, 20)}})
	b := ch.shown[i]
	if want := fmt.Sprintf("%d call", b.Calls); !strings.Contains(a.overview.chartSum.Text, want) {
		t.Errorf("hovering shows %q, want the bar's %q", a.overview.chartSum.Text, want)
	}
	ch.MouseOut()
	if !strings.Contains(a.overview.chartSum.Text, "in the last 24 hours") {
		t.Errorf("after the pointer left: %q", a.overview.chartSum.Text)
	}
	test.Tap(ch) // at 0,0: the gutter, no bar
	if a.tabs.Selected().Text == TabHistory {
		t.Fatal("a click beside the bars opened History")
	}
	ch.Tapped(&fyne.PointEvent{Position: fyne.NewPos(x, 20)})
	h := a.history
	pump(t, "the bar's calls", func() bool { return a.tabs.Selected().Text == TabHistory && !h.loading && len(h.calls) > 0 })
	if len(h.calls) != b.Calls {
		t.Errorf("History lists %d calls, want the bar's %d", len(h.calls), b.Calls)
	}
	for _, c := range h.calls {
		if c.Time.Before(b.Start) || !c.Time.Before(b.Start.Add(chartStep)) {
			t.Errorf("call at %v is outside %v + 5 min", c.Time, b.Start)
		}
	}
}

// Without a notification service the app says so once, in the window, rather
// than only logging Fyne's "Failed to send message" (issue 16 §5).
func TestNotificationsMissingSaidOnce(t *testing.T) {
	notifierCheck = func() error {
		return errors.New("no notification service (org.freedesktop.Notifications) on this desktop")
	}
	t.Cleanup(func() { notifierCheck = func() error { return nil } })
	e := newTestEnv(t)
	a := newTestApp(t, e)
	pump(t, "notice", func() bool { return a.overview.notice.Visible() })
	if !strings.Contains(a.overview.notice.Text, "org.freedesktop.Notifications") {
		t.Errorf("notice %q", a.overview.notice.Text)
	}
}
