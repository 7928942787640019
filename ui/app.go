package ui

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"github.com/gatehouse/gatehouse/assets"
	"github.com/gatehouse/gatehouse/store"
)

// runOnUI runs f on the UI thread. Tests replace it with a queue they drain on
// the test goroutine, because Fyne's test driver runs fyne.Do at once on the
// calling goroutine. A panic in f is logged, not fatal (guard).
var runOnUI = func(f func()) { fyne.Do(guard("ui callback", f)) }

// App is the desktop app: one window with a tab per screen, the tray menu, and
// the background work that keeps them current.
type App struct {
	fy fyne.App
	b  *Backend

	// win is nil while the app sits in the tray with its window closed (see
	// closeToTray); Window builds it again around the same screens.
	win         fyne.Window
	winMaster   bool
	winSize     fyne.Size
	closeToTray bool
	// OnWindowClosed, when set, runs (on the UI thread) after the window was
	// closed to the tray: main hands the freed memory back to the OS.
	OnWindowClosed func()

	tabs      *container.AppTabs
	overview  *overviewScreen
	usage     *usageScreen
	providers *providersScreen
	history   *historyScreen
	settings  *settingsScreen
	clients   *clientsScreen // issue 13
	prompts   *promptsScreen // issue 13
	tray      *tray          // nil without a tray host

	health   *healthWatch
	seedOnce sync.Once   // health learns the recent failures from history once
	dirty    atomic.Bool // a call arrived since the last stats refresh

	stopOnce   sync.Once
	stop       chan struct{}
	cancelFeed func()
}

// AppID is the desktop app's unique ID (preferences, notifications, the tray,
// the login items); FyneApp.toml holds the same.
const AppID = "io.github.gatehouse.gatehouse"

// The names of the tabs, in order.
const (
	TabOverview  = "Overview"
	TabProviders = "Providers"
	TabHistory   = "History"
	TabSettings  = "Settings"
	TabClients   = "Clients"
	TabPrompts   = "Prompts"
)

// New builds the window on b. Call it on the UI thread (or before the app runs);
// it starts the background work that keeps the screens current until Close.
func New(fy fyne.App, b *Backend) *App {
	a := &App{fy: fy, b: b, stop: make(chan struct{})}
	fy.SetIcon(assets.Icon)
	a.health = newHealthWatch(b.now, func() bool {
		return b.Settings == nil || b.Settings.Current().App.NotificationsEnabled()
	}, func(title, content string) {
		fy.SendNotification(fyne.NewNotification("Gatehouse: "+title, content))
	})

	a.winSize = fyne.NewSize(1180, 760)
	a.overview = newOverviewScreen(a)
	a.usage = newUsageScreen(a)
	a.providers = newProvidersScreen(a)
	a.history = newHistoryScreen(a)
	a.settings = newSettingsScreen(a)
	a.clients, a.prompts = newClientsScreen(a), newPromptsScreen(a)
	a.tabs = container.NewAppTabs()
	a.tabs.SetTabLocation(container.TabLocationLeading)
	opened := map[string]func(){}
	for _, s := range a.screens() {
		a.tabs.Append(container.NewTabItemWithIcon(s.name, s.icon, s.content))
		if s.opened != nil {
			opened[s.name] = s.opened
		}
	}
	a.tabs.OnSelected = func(t *container.TabItem) {
		if f := opened[t.Text]; f != nil {
			f()
		}
	}

	if b.History != nil {
		a.cancelFeed = b.History.Subscribe(a.callArrived)
	}
	go a.refreshLoop()
	go a.checkNotifications(notifierCheck)
	return a
}

// notifierCheck says why desktop notifications cannot be shown (nil: they
// can); a variable so tests can pick the answer.
var notifierCheck = notificationsMissing

// checkNotifications tells the user once, in the window, when notifications
// are on but the desktop cannot show them (issue 16 §5); off the UI thread.
func (a *App) checkNotifications(check func() error) {
	if a.b.Settings != nil && !a.b.Settings.Current().App.NotificationsEnabled() {
		return
	}
	err := check()
	if err == nil {
		return
	}
	a.b.log().Info("desktop notifications unavailable", "err", err)
	runOnUI(func() {
		a.overview.notice.SetText("Notifications cannot be shown: " + err.Error() +
			". Failing providers still show in the tray icon and in History; a notification daemon (your desktop's, dunst, mako…) brings them back.")
		a.overview.notice.Show()
	})
}

// navScreen is one entry of the window's navigation, in order: a screen adds
// itself to screens() with its name, icon, content and, when it loads lazily,
// what to do the first time it is opened.
type navScreen struct {
	name    string
	icon    fyne.Resource
	content fyne.CanvasObject
	opened  func() // nil: nothing to do
}

// screens lists the navigation; built once in New.
func (a *App) screens() []navScreen {
	return []navScreen{
		{TabOverview, theme.HomeIcon(), a.overview.content, nil},
		{TabUsage, theme.InfoIcon(), a.usage.content, a.usage.refresh},
		{TabProviders, theme.AccountIcon(), a.providers.content, nil},
		{TabHistory, theme.ListIcon(), a.history.content, a.history.open},
		{TabClients, theme.LoginIcon(), a.clients.content, a.clients.refresh},
		{TabPrompts, theme.DocumentCreateIcon(), a.prompts.content, a.prompts.refresh},
		{TabSettings, theme.SettingsIcon(), a.settings.content, nil},
	}
}

// Window is the main window, built on first use and again after it was closed
// to the tray. Call it on the UI thread.
func (a *App) Window() fyne.Window {
	if a.win != nil {
		return a.win
	}
	w := a.fy.NewWindow("Gatehouse")
	w.SetContent(a.tabs)
	w.Resize(a.winSize)
	if a.closeToTray {
		w.SetCloseIntercept(a.closeWindowToTray)
	} else {
		w.SetMaster() // no tray to come back from: closing the window quits
	}
	a.win, a.winMaster = w, !a.closeToTray
	// Ctrl+W closes the window as its close button does; Ctrl+Q quits.
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) {
		if a.closeToTray {
			a.closeWindowToTray()
		} else {
			w.Close()
		}
	})
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { a.fy.Quit() })
	return w
}

// closeWindowToTray closes the window, not the app: the tray's Open brings a
// new one around the same screens. Hiding would keep the window's GL context
// and everything drawn for it (about 20 MB under software GL: compiled
// shaders, textures, buffers) for as long as the app idles in the tray. Fyne
// keeps running on its hidden systray window.
func (a *App) closeWindowToTray() {
	w := a.win
	if w == nil {
		return
	}
	if a.winMaster { // closing the master window would quit
		w.Hide()
		return
	}
	a.winSize = w.Canvas().Size()
	a.win = nil
	w.Close()
	if a.OnWindowClosed != nil {
		a.OnWindowClosed()
	}
}

// ShowTab shows the window on the named tab. Call it on the UI thread.
func (a *App) ShowTab(name string) {
	for _, t := range a.tabs.Items {
		if t.Text == name {
			a.tabs.Select(t)
		}
	}
	a.Window().Show()
}

// Show brings the window forward; safe from any goroutine (a second launch
// asks for it through the admin API).
func (a *App) Show() {
	runOnUI(func() {
		w := a.Window()
		w.Show()
		w.RequestFocus()
	})
}

// Reveal brings the window forward on the named tab ("" keeps the current one)
// and, when callID is set, opens that call in History; there tab may name a
// tab of the call's detail (TabConversation, TabUpstream, …). Safe from any
// goroutine.
func (a *App) Reveal(tab, callID string) {
	runOnUI(func() {
		if callID != "" {
			a.history.detail.wantTab = tab
			tab = TabHistory
		}
		if tab != "" {
			a.ShowTab(tab)
		}
		if callID != "" {
			a.history.openCall(callID)
		}
		w := a.Window()
		w.Show()
		w.RequestFocus()
	})
}

// CircuitChanged is the proxy's circuit hook; safe from any goroutine.
func (a *App) CircuitChanged(provider string, open bool) {
	a.health.circuit(provider, open)
	a.dirty.Store(true)
	a.tickCircuits()
}

// Close stops the background work; the proxy itself is main's to stop.
func (a *App) Close() {
	a.stopOnce.Do(func() {
		close(a.stop)
		if a.cancelFeed != nil {
			a.cancelFeed()
		}
	})
}

// callArrived runs on the history feed's goroutine.
func (a *App) callArrived(c *store.Call) {
	a.health.observe(c)
	a.dirty.Store(true)
	a.history.arrived(c)
}

// refreshLoop recomputes the stats shown by the overview and the tray: within
// 5 s of calls arriving, and every 30 s anyway (the chart moves with time).
func (a *App) refreshLoop() {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	var last time.Time
	for {
		now := a.b.now()
		// Each refresh scans a day of summaries: at most one per 5 s under traffic.
		due := now.Sub(last) >= 30*time.Second || (now.Sub(last) >= 5*time.Second && a.dirty.Load())
		if last.IsZero() || due {
			a.dirty.Store(false)
			a.refreshStats()
			last = now
		}
		a.tickCircuits()
		select {
		case <-a.stop:
			return
		case <-tick.C:
		}
	}
}

// seedHealth takes the recent failures from history, so that the tray icon
// shows a call that failed 3 minutes before a restart (issue 16 §5).
func (a *App) seedHealth(ctx context.Context) {
	now := a.b.now()
	p, err := a.b.History.Page(ctx, store.Query{FailedOnly: true, Since: now.Add(-recentFailure), Limit: 20})
	if err != nil {
		a.b.log().Warn("history: recent failures", "err", err)
		return
	}
	for i := range p.Calls {
		if c := &p.Calls[i]; c.Outcome != store.OutcomeClientCancelled {
			a.health.failedAt(c.Time)
			return
		}
	}
}

// refreshStats queries history off the UI thread, then updates the screens.
func (a *App) refreshStats() {
	var today Stats
	var buckets []Bucket
	if a.b.History != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.seedOnce.Do(func() { a.seedHealth(ctx) })
		now := a.b.now()
		var err error
		since := now.Truncate(chartStep).Add(chartStep - chartRange)
		if buckets, err = a.b.History.Activity(ctx, since, since.Add(chartRange), chartStep); err != nil {
			a.b.log().Warn("history activity", "err", err)
		}
		// Today is inside the chart's 24 hours, so one scan serves both, except
		// on a 25-hour day (the end of summer time) past 23:00.
		if day := startOfDay(now); !day.Before(since) {
			today = sumBuckets(buckets, day)
		} else if today, err = a.b.History.Stats(ctx, day, now.Add(time.Minute)); err != nil {
			a.b.log().Warn("history stats", "err", err)
		}
	}
	a.todayCost(&today)
	warn := a.historyWarning()
	runOnUI(func() {
		showHistoryWarning(a.overview.history, warn)
		if t := a.tabs.Selected(); t != nil && t.Text == TabUsage {
			a.usage.refresh()
		}
		a.overview.update(today, buckets)
		if a.tray != nil {
			a.tray.warn = warn
			a.tray.update(today)
		}
		if t := a.tabs.Selected(); t != nil && t.Text == TabClients {
			a.clients.refresh() // usage today moves with the calls
		}
	})
}

// tickCircuits keeps the Providers screen's circuit states and countdowns
// current while the window is open.
func (a *App) tickCircuits() {
	runOnUI(func() {
		if a.win != nil {
			a.providers.refreshCircuits()
		}
	})
}

// sumBuckets adds up the buckets that start at from or later.
func sumBuckets(buckets []Bucket, from time.Time) Stats {
	var s Stats
	for _, b := range buckets {
		if b.Start.Before(from) {
			continue
		}
		s.Calls += int64(b.Calls)
		s.Failed += int64(b.Failed)
		s.InputTokens += b.InputTokens
		s.OutputTokens += b.OutputTokens
	}
	return s
}

// setPaused pauses or resumes the proxy and updates every place that shows it.
func (a *App) setPaused(p bool) {
	a.b.Proxy.SetPaused(p)
	a.overview.showStatus()
	if a.tray != nil {
		a.tray.refresh()
	}
}

// copyText puts s on the clipboard.
func (a *App) copyText(s string) { a.fy.Clipboard().SetContent(s) }

// baseURLs are the addresses tools point at.
func (a *App) openAIBase() string    { return a.localBase() + "/v1" }
func (a *App) anthropicBase() string { return a.localBase() }
func (a *App) geminiBase() string    { return a.localBase() }
