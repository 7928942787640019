package ui

import (
	"image/color"
	"runtime"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/store"
)

// overviewScreen shows the proxy's status, the base URLs, snippets for common
// tools, today's figures and the activity chart.
type overviewScreen struct {
	a       *App
	content fyne.CanvasObject

	status   *widget.Label
	pause    *widget.Button
	calls    *widget.Label
	failed   *widget.Label
	tokens   *widget.Label
	cost     *widget.Label
	chart    *activityChart
	chartSum *widget.Label
	hover    string // the counts under the pointer, shown in place of the sum
	sum      string
	snippet  *widget.Label
	notice   *widget.Label // what the app cannot do on this desktop; hidden when nothing
	history  *widget.Label // the history's fault, if any (historyhealth.go)
}

func newOverviewScreen(a *App) *overviewScreen {
	s := &overviewScreen{a: a}
	s.status = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.pause = widget.NewButton(MenuPause, func() { a.setPaused(!a.b.Proxy.Paused()) })
	statusCard := widget.NewCard("Proxy", "", container.NewBorder(nil, nil, nil, s.pause, s.status))

	urls := container.New(layout.NewFormLayout())
	for _, u := range []struct{ name, url string }{
		{"OpenAI", a.openAIBase()},
		{"Anthropic", a.anthropicBase()},
		{"Gemini", a.geminiBase()},
	} {
		url := u.url
		copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() { a.copyText(url) })
		copyBtn.Importance = widget.LowImportance
		urls.Add(widget.NewLabel(u.name))
		urls.Add(container.NewBorder(nil, nil, nil, copyBtn, monoLabel(url)))
	}
	urlCard := widget.NewCard("Base URLs", "Point your tools here; Gatehouse adds the keys.", urls)

	all := snippetsFor(a.b.Proxy.Addr(), runtime.GOOS)
	s.snippet = monoLabel(all[0].Text)
	where := widget.NewLabel(all[0].Where)
	where.Importance = widget.LowImportance
	names := make([]string, len(all))
	for i, sn := range all {
		names[i] = sn.Tool
	}
	pick := widget.NewSelect(names, func(name string) {
		for _, sn := range all {
			if sn.Tool == name {
				s.snippet.SetText(sn.Text)
				where.SetText(sn.Where)
			}
		}
	})
	pick.SetSelectedIndex(0)
	copySnippet := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { a.copyText(s.snippet.Text) })
	snippetCard := widget.NewCard("Set up a tool", "", container.NewBorder(
		container.NewBorder(nil, nil, nil, copySnippet, container.NewHBox(container.NewGridWrap(fyne.NewSize(230, pick.MinSize().Height), pick), where)), nil, nil, nil, s.snippet))

	s.calls, s.failed, s.tokens, s.cost = bigNumber(), bigNumber(), bigNumber(), bigNumber()
	// Two columns: the window must stay within its width with big figures.
	today := widget.NewCard("Today", "", container.NewGridWithColumns(2,
		figure("calls", s.calls), figure("failed", s.failed), figure("tokens in / out", s.tokens), figure("cost", s.cost)))

	s.chart = newActivityChart(s.chartColors, s.hoverChart, func(from, to time.Time) {
		a.ShowTab(TabHistory)
		a.history.ShowRange(from, to)
	})
	s.chartSum = widget.NewLabel("")
	s.chartSum.Importance = widget.LowImportance
	chartCard := widget.NewCard("Last 24 hours", "calls and failures (red) per 5 minutes, from the first call; click a bar to list its calls",
		container.NewBorder(nil, s.chartSum, nil, nil, s.chart))

	s.notice = widget.NewLabel("")
	s.notice.Wrapping = fyne.TextWrapWord
	s.notice.Importance = widget.WarningImportance
	s.notice.Hide()
	s.history = newHistoryWarning()
	s.content = container.NewVScroll(container.NewVBox(
		s.history,
		s.notice,
		statusCard,
		newLANInfo(a), // shared on the network: the URLs to give out (issue 13)
		// Stacked, not side by side: four big figures beside the URLs made the
		// window wider than its 1180 px.
		urlCard,
		today,
		chartCard,
		snippetCard,
	))
	s.showStatus()
	return s
}

func monoLabel(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	return l
}

func bigNumber() *widget.Label {
	l := widget.NewLabelWithStyle("–", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

func figure(caption string, value *widget.Label) fyne.CanvasObject {
	c := widget.NewLabelWithStyle(caption, fyne.TextAlignCenter, fyne.TextStyle{})
	c.Importance = widget.LowImportance
	return container.NewVBox(value, c)
}

// showStatus shows whether the proxy listens or is paused; on the UI thread.
func (s *overviewScreen) showStatus() {
	if s.a.b.Proxy.Paused() {
		s.status.SetText("Paused on " + s.a.b.Proxy.Addr() + ": every call gets 503 until you resume")
		s.pause.SetText(MenuResume)
		s.pause.SetIcon(theme.MediaPlayIcon())
		s.pause.Importance = widget.HighImportance
	} else {
		s.status.SetText("Listening on " + s.a.b.Proxy.Addr())
		s.pause.SetText(MenuPause)
		s.pause.SetIcon(theme.MediaPauseIcon())
		s.pause.Importance = widget.MediumImportance
	}
	s.pause.Refresh()
}

// update shows new figures; on the UI thread.
func (s *overviewScreen) update(today Stats, buckets []Bucket) {
	s.showStatus()
	// Compact figures keep the card narrow (its grid makes every column as wide
	// as the widest figure).
	s.calls.SetText(compact(today.Calls))
	s.failed.SetText(compact(today.Failed))
	if today.Failed > 0 {
		s.failed.Importance = widget.DangerImportance
	} else {
		s.failed.Importance = widget.MediumImportance
	}
	s.failed.Refresh()
	s.tokens.SetText(compact(today.InputTokens) + " / " + compact(today.OutputTokens))
	s.cost.SetText(costFigure(store.UsageTotals{Calls: today.Calls, CostUSD: today.CostUSD, CostUnknownCalls: today.Unpriced}))
	var calls, failed int
	for _, b := range buckets {
		calls += b.Calls
		failed += b.Failed
	}
	s.sum = thousands(int64(calls)) + " calls, " + thousands(int64(failed)) + " failed in the last 24 hours"
	if s.hover == "" {
		s.chartSum.SetText(s.sum)
	}
	s.chart.set(buckets)
}

// hoverChart shows the counts under the pointer ("" puts the sum back).
func (s *overviewScreen) hoverChart(text string) {
	s.hover = text
	if text == "" {
		text = s.sum
	}
	s.chartSum.SetText(text)
}

func (s *overviewScreen) chartColors() (ok, bad, axis color.Color) {
	th := s.a.fy.Settings().Theme()
	v := s.a.fy.Settings().ThemeVariant()
	return th.Color(theme.ColorNamePrimary, v), color.NRGBA{0xd9, 0x30, 0x25, 0xff}, th.Color(theme.ColorNameSeparator, v)
}
