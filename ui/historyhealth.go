package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// HistoryHealth is an optional History capability (issue 15 §4): why calls are
// not being recorded ("" when they are: a full disk, a data folder that cannot
// be written) and a notice from opening the file (a damaged history.db moved
// aside).
type HistoryHealth interface {
	Health() (degraded, notice string)
}

// historyWarning is the line the Overview and the tray show about the history:
// "" when all is well. Off the UI thread.
func (a *App) historyWarning() string {
	hh, ok := a.b.History.(HistoryHealth)
	if !ok {
		return ""
	}
	degraded, notice := hh.Health()
	if degraded != "" {
		return "History degraded: " + degraded
	}
	return notice
}

// newHistoryWarning is the Overview's history warning label, hidden while
// there is nothing to say.
func newHistoryWarning() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

// showHistoryWarning sets l to text (hidden when ""); on the UI thread.
func showHistoryWarning(l *widget.Label, text string) {
	if text == "" {
		l.Hide()
		return
	}
	l.SetText(text)
	l.Show()
}
