package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/store"
)

// timelineRows are attempt i's rows in the timeline: what was tried and how it
// ended, the wait before it and its timings, the URL, the upstream's own
// message, all wrapped rather than cut (issue 16 §2), then the circuit event
// it caused. Tapping the attempt shows its request and response. With
// repeated, the upstream's message is the previous attempt's: it is not
// printed again.
func timelineRows(i int, a *store.Attempt, repeated bool, tap func()) []fyne.CanvasObject {
	icon := widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	imp := widget.SuccessImportance
	switch {
	case a.Skipped():
		icon.SetResource(theme.NewWarningThemedResource(theme.MediaSkipNextIcon()))
		imp = widget.WarningImportance
	case attemptFailed(a):
		icon.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
		imp = widget.DangerImportance
	}
	head := widget.NewLabelWithStyle(fmt.Sprintf("#%d  %s", i+1, target(a)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	res := widget.NewLabelWithStyle(attemptResult(a), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	res.Importance = imp
	res.Wrapping = fyne.TextWrapWord
	show := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), tap)
	show.Importance = widget.LowImportance
	lines := []fyne.CanvasObject{container.NewBorder(nil, nil, container.NewHBox(icon, head), show, res)}
	add := func(text string, imp widget.Importance, wrap fyne.TextWrap) {
		l := widget.NewLabel(text)
		l.Importance, l.Wrapping = imp, wrap
		lines = append(lines, l)
	}
	if a.Skipped() {
		add("not sent: the circuit was open"+untilText(a.CircuitUntil), widget.LowImportance, fyne.TextWrapWord)
	} else {
		// One wrapped line for the facts, one for the upstream's own words.
		facts := attemptTimes(a) + attemptKey(a)
		if a.URL != "" {
			facts += " · " + orDash(a.Method) + " " + a.URL
		}
		add(facts, widget.LowImportance, fyne.TextWrapWord)
		if a.Error != "" && a.Error != attemptResult(a) && !repeated {
			add(a.Error, widget.MediumImportance, fyne.TextWrapWord)
		}
	}
	box := newTappableBox(container.New(layout.NewCustomPaddedVBoxLayout(0), lines...), tap)
	out := []fyne.CanvasObject{box}
	if a.CircuitOpened {
		ev := widget.NewLabel(fmt.Sprintf("⚡ circuit opened: %s skipped%s", a.Provider, untilText(a.CircuitUntil)))
		ev.Importance = widget.WarningImportance
		ev.Wrapping = fyne.TextWrapWord
		out = append(out, ev)
	}
	return out
}

// attemptResult is how an attempt ended: "200", "502 server error",
// "connection refused", "skipped (circuit open)".
func attemptResult(a *store.Attempt) string {
	if !attemptFailed(a) {
		return fmt.Sprint(a.Status)
	}
	return attemptError(a)
}

// attemptTimes is "waited 250 ms · connect 12 ms · first byte 480 ms · took 1.2 s".
func attemptTimes(a *store.Attempt) string {
	s := ""
	if a.DelayMS > 0 {
		s = "waited " + shortDuration(ms(a.DelayMS)) + " · "
	}
	if a.ConnectMS > 0 {
		s += "connect " + shortDuration(ms(a.ConnectMS)) + " · "
	}
	if a.FirstByteMS > 0 {
		s += "first byte " + shortDuration(ms(a.FirstByteMS)) + " · "
	}
	return s + "took " + shortDuration(ms(a.DurationMS))
}

// attemptKey names the key an attempt used: " · key keychain sk-…abcd".
func attemptKey(a *store.Attempt) string {
	if a.KeySource == "" {
		return ""
	}
	s := " · key " + a.KeySource
	if a.KeyMask != "" {
		s += " " + a.KeyMask
	}
	return s
}

// untilText is " until 15:04:05", or "" for a zero time.
func untilText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.Local().Format("15:04:05")
}

// tappableBox is a timeline entry: tapping anywhere on it runs tap.
type tappableBox struct {
	widget.BaseWidget
	content fyne.CanvasObject
	tap     func()
}

var _ fyne.Tappable = (*tappableBox)(nil)

func newTappableBox(content fyne.CanvasObject, tap func()) *tappableBox {
	b := &tappableBox{content: content, tap: tap}
	b.ExtendBaseWidget(b)
	return b
}

func (b *tappableBox) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(b.content)
}

func (b *tappableBox) Tapped(*fyne.PointEvent) { b.tap() }
