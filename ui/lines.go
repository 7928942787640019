package ui

import (
	"image/color"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// linesView shows a long text as a virtualised list of monospace rows, so a
// multi-megabyte body scrolls without laying out every line. Long lines wrap at
// the view's width (issue 16 §3: prompts, errors and SSE events were cut at the
// right edge); rows are packed tightly; search hits and a malformed JSON's
// error position are highlighted.
type linesView struct {
	widget.BaseWidget

	lines []string // the text, one logical line each
	rows  []lineSpan
	cols  int // the wrap width the rows were cut for

	search string   // lowercase text to highlight ("" none)
	mark   position // a character to mark (JSON error); line -1: none

	list    *widget.List
	note    *widget.Label
	content *fyne.Container
}

// lineSpan is one display row: bytes [from, to) of line.
type lineSpan struct{ line, from, to int }

// position is a character in the text: line and byte offset in it.
type position struct{ line, col int }

func newLinesView() *linesView {
	v := &linesView{mark: position{-1, 0}}
	v.list = widget.NewList(
		func() int { return len(v.rows) },
		func() fyne.CanvasObject { return newLineRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.rows) {
				v.fill(o.(*lineRow), v.rows[id])
			}
		})
	v.list.HideSeparators = true
	v.note = widget.NewLabel("")
	v.note.Importance = widget.WarningImportance
	v.note.Wrapping = fyne.TextWrapWord
	v.note.Hide()
	v.content = container.NewBorder(v.note, nil, nil, nil, v.list)
	v.ExtendBaseWidget(v)
	return v
}

func (v *linesView) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(v.content) }

// Resize re-wraps the rows for the new width.
func (v *linesView) Resize(s fyne.Size) {
	v.BaseWidget.Resize(s)
	if cols := wrapColumns(s.Width); cols != v.cols {
		v.cols = cols
		v.rewrap()
	}
}

// wrapColumns is how many monospace characters fit in a row of width w.
func wrapColumns(w float32) int {
	cw := monoCharWidth()
	usable := w - 2*theme.Padding() - theme.ScrollBarSize() - 4
	return max(int(usable/cw), 20)
}

func monoCharWidth() float32 {
	return fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{Monospace: true}).Width
}

// set shows lines (prepared off the UI thread) and a note about what was cut.
func (v *linesView) set(lines []string, note string) {
	v.setMarked(lines, note, position{-1, 0})
}

// setMarked is set with one character marked (a JSON error's position).
func (v *linesView) setMarked(lines []string, note string, mark position) {
	v.lines, v.mark = lines, mark
	v.note.SetText(note)
	if note == "" {
		v.note.Hide()
	} else {
		v.note.Show()
	}
	v.rewrap()
	v.list.ScrollToTop()
}

// highlight marks every occurrence of text (any case); "" clears.
func (v *linesView) highlight(text string) {
	v.search = strings.ToLower(text)
	v.list.Refresh()
}

// rewrap cuts the lines into rows of at most cols characters.
func (v *linesView) rewrap() {
	cols := v.cols
	if cols <= 0 {
		cols = 80
	}
	v.rows = wrapLines(v.rows[:0], v.lines, cols)
	v.list.Refresh()
}

// wrapLines appends the rows of lines wrapped at cols characters (runes).
func wrapLines(rows []lineSpan, lines []string, cols int) []lineSpan {
	for i, l := range lines {
		from, n := 0, 0
		for j := range l {
			if n == cols {
				rows = append(rows, lineSpan{i, from, j})
				from, n = j, 0
			}
			n++
		}
		rows = append(rows, lineSpan{i, from, len(l)})
	}
	return rows
}

// fill writes a row into its template.
func (v *linesView) fill(r *lineRow, sp lineSpan) {
	text := v.lines[sp.line][sp.from:sp.to]
	var hits [][2]int // rune columns [from, to) to highlight
	if v.search != "" {
		lower := strings.ToLower(text)
		for at := 0; len(hits) < maxHitsPerRow; {
			k := strings.Index(lower[at:], v.search)
			if k < 0 {
				break
			}
			start := utf8.RuneCountInString(lower[:at+k])
			hits = append(hits, [2]int{start, start + utf8.RuneCountInString(v.search)})
			at += k + max(len(v.search), 1)
		}
	}
	errCol := -1
	if v.mark.line == sp.line && v.mark.col >= sp.from && (v.mark.col < sp.to || sp.to == len(v.lines[sp.line]) && v.mark.col == sp.to) {
		errCol = utf8.RuneCountInString(v.lines[sp.line][sp.from:v.mark.col])
	}
	r.show(text, hits, errCol)
}

// maxHitsPerRow bounds the highlight rectangles of one row.
const maxHitsPerRow = 4

// Text is everything shown, one logical line per entry.
func (v *linesView) Text() []string { return v.lines }

// lineRow is one tight monospace row with its highlights.
type lineRow struct {
	widget.BaseWidget
	text  *canvas.Text
	hits  [maxHitsPerRow]*canvas.Rectangle
	err   *canvas.Rectangle
	spans [][2]int
	errAt int
}

func newLineRow() *lineRow {
	r := &lineRow{text: canvas.NewText("", theme.Color(theme.ColorNameForeground)), errAt: -1}
	r.text.TextStyle.Monospace = true
	r.text.TextSize = theme.TextSize()
	for i := range r.hits {
		r.hits[i] = canvas.NewRectangle(color.NRGBA{0xff, 0xd5, 0x4f, 0xb0})
		r.hits[i].Hide()
	}
	r.err = canvas.NewRectangle(color.NRGBA{0xe5, 0x39, 0x35, 0xc0})
	r.err.Hide()
	r.ExtendBaseWidget(r)
	return r
}

func (r *lineRow) show(text string, hits [][2]int, errCol int) {
	r.text.Text = text
	r.text.Color = theme.Color(theme.ColorNameForeground)
	r.spans, r.errAt = hits, errCol
	r.Refresh()
}

func (r *lineRow) CreateRenderer() fyne.WidgetRenderer {
	objs := []fyne.CanvasObject{r.err}
	for _, h := range r.hits {
		objs = append(objs, h)
	}
	objs = append(objs, r.text)
	return &lineRowRenderer{r: r, objs: objs}
}

type lineRowRenderer struct {
	r    *lineRow
	objs []fyne.CanvasObject
}

// rowPad is the room left and right of a row's text; rows have 1 px between them.
const rowPad = 4

func (x *lineRowRenderer) Layout(s fyne.Size) {
	r := x.r
	cw := monoCharWidth()
	h := s.Height
	r.text.Move(fyne.NewPos(rowPad, 0))
	r.text.Resize(fyne.NewSize(s.Width-rowPad, h))
	for i, rect := range r.hits {
		if i >= len(r.spans) {
			rect.Hide()
			continue
		}
		sp := r.spans[i]
		rect.Move(fyne.NewPos(rowPad+float32(sp[0])*cw, 0))
		rect.Resize(fyne.NewSize(float32(sp[1]-sp[0])*cw, h))
		rect.Show()
	}
	if r.errAt >= 0 {
		r.err.Move(fyne.NewPos(rowPad+float32(r.errAt)*cw, 0))
		r.err.Resize(fyne.NewSize(max(cw, 3), h))
		r.err.Show()
	} else {
		r.err.Hide()
	}
}

func (x *lineRowRenderer) MinSize() fyne.Size {
	return fyne.NewSize(40, fyne.MeasureText("Mg", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height+1)
}

func (x *lineRowRenderer) Refresh() {
	x.Layout(x.r.Size())
	for _, o := range x.objs {
		o.Refresh()
	}
}

func (x *lineRowRenderer) Objects() []fyne.CanvasObject { return x.objs }
func (x *lineRowRenderer) Destroy()                     {}
