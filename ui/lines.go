package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// linesView shows a long text as a virtualised list of monospace lines, so a
// multi-megabyte body scrolls without laying out every line.
type linesView struct {
	lines   []string
	list    *widget.List
	note    *widget.Label
	content fyne.CanvasObject
}

func newLinesView() *linesView {
	v := &linesView{}
	v.list = widget.NewList(
		func() int { return len(v.lines) },
		func() fyne.CanvasObject {
			return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.lines) {
				o.(*widget.Label).SetText(v.lines[id])
			}
		})
	v.list.HideSeparators = true
	v.note = widget.NewLabel("")
	v.note.Importance = widget.WarningImportance
	v.note.Hide()
	v.content = container.NewBorder(v.note, nil, nil, nil, v.list)
	return v
}

// set shows lines (prepared off the UI thread) and a note about what was cut.
func (v *linesView) set(lines []string, note string) {
	v.lines = lines
	v.note.SetText(note)
	if note == "" {
		v.note.Hide()
	} else {
		v.note.Show()
	}
	v.list.ScrollToTop()
	v.list.Refresh()
}

// Text is everything shown, one line per row.
func (v *linesView) Text() []string { return v.lines }
