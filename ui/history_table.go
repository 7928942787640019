package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
)

// historyColumn is one column of the call table: its header, tooltip, start
// width (the user drags the header's edge to change it) and cell text.
type historyColumn struct {
	name, tip string
	width     float32
	cell      func(s *historyScreen, c *store.Call) (string, widget.Importance)
}

// historyColumns are the call table's columns, in order: what tells a failed
// call first (issue 16 §4), then where it went and what it cost.
var historyColumns = []historyColumn{
	{"Time", "when the call started (local time)", 74, func(s *historyScreen, c *store.Call) (string, widget.Importance) {
		return clock(c.Time, s.a.b.now()), widget.MediumImportance
	}},
	{"Status", "the status the client got; ✂ a stream cut short, gone: the client hung up", 70, func(_ *historyScreen, c *store.Call) (string, widget.Importance) {
		return statusText(c), statusImportance(c)
	}},
	{"Tries", "attempts sent upstream (the X-Gatehouse-Attempts header)", 50, func(_ *historyScreen, c *store.Call) (string, widget.Importance) {
		if n := c.Tries(); n > 1 {
			return fmt.Sprintf("%d×", n), widget.WarningImportance
		}
		return "", widget.MediumImportance
	}},
	{"Error", "what went wrong, in the proxy's words", 210, func(_ *historyScreen, c *store.Call) (string, widget.Importance) {
		return c.Error, widget.DangerImportance
	}},
	{"Model → provider/model", "the model the client asked for, and where it went", 230, func(_ *historyScreen, c *store.Call) (string, widget.Importance) {
		return modelRoute(c), widget.MediumImportance
	}},
	{"Format", "the client's format → the format sent upstream when Gatehouse translated", 150, func(s *historyScreen, c *store.Call) (string, widget.Importance) {
		return s.formatBadge(c), widget.MediumImportance
	}},
	{"Duration", "from the request to the last byte of the answer", 76, func(_ *historyScreen, c *store.Call) (string, widget.Importance) {
		return shortDuration(ms(c.DurationMS)), widget.MediumImportance
	}},
	{"Tokens", "input / output tokens, as the provider counted them", 90, func(_ *historyScreen, c *store.Call) (string, widget.Importance) {
		return tokens(tokenCount(c.InputTokens)) + "/" + tokens(tokenCount(c.OutputTokens)), widget.MediumImportance
	}},
	{"Request", "method and path the client called", 190, func(_ *historyScreen, c *store.Call) (string, widget.Importance) {
		return requestText(c), widget.MediumImportance
	}},
}

// callTable is the history's table: Up and Down open the previous and next
// call (the table alone would only move its focus ring).
type callTable struct {
	widget.Table
	step func(delta int)
}

func (t *callTable) TypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyUp:
		t.step(-1)
	case fyne.KeyDown:
		t.step(1)
	default:
		t.Table.TypedKey(e)
	}
}

func (s *historyScreen) newTable() *callTable {
	t := &callTable{step: s.step}
	t.Length = func() (int, int) { return len(s.calls), len(historyColumns) }
	t.CreateCell = newHistoryCell
	t.UpdateCell = s.updateCell
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		return newTipLabel(fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(historyColumns) {
			col := historyColumns[id.Col]
			o.(*tipLabel).set(col.name, col.tip, widget.MediumImportance, false)
		}
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(s.calls) {
			s.openRow(id.Row)
		}
	}
	t.ExtendBaseWidget(t)
	for i, c := range historyColumns {
		t.SetColumnWidth(i, c.width)
	}
	return t
}

func newHistoryCell() fyne.CanvasObject { return newTipLabel(fyne.TextStyle{}) }

func (s *historyScreen) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row >= len(s.calls) || id.Col >= len(historyColumns) {
		return
	}
	if s.next != "" && id.Row >= len(s.calls)-prefetch {
		s.fetch()
	}
	c := &s.calls[id.Row]
	text, imp := historyColumns[id.Col].cell(s, c)
	o.(*tipLabel).set(text, text, imp, c.ID == s.selected)
}

// tipLabel is a table cell: a one-line label that shows its whole text (or a
// column's explanation) in a tooltip while the mouse rests on it.
type tipLabel struct {
	widget.BaseWidget
	label *widget.Label
	bg    *canvas.Rectangle // the selected row's highlight
	tip   string
	popup *widget.PopUp
}

var _ desktop.Hoverable = (*tipLabel)(nil)

func newTipLabel(style fyne.TextStyle) *tipLabel {
	l := &tipLabel{label: widget.NewLabelWithStyle("", fyne.TextAlignLeading, style), bg: canvas.NewRectangle(theme.Color(theme.ColorNameSelection))}
	l.label.Truncation = fyne.TextTruncateEllipsis
	l.bg.Hide()
	l.ExtendBaseWidget(l)
	return l
}

func (l *tipLabel) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(&fyne.Container{Layout: stackLayout{}, Objects: []fyne.CanvasObject{l.bg, l.label}})
}

// set shows text; tip is the tooltip ("" for none).
func (l *tipLabel) set(text, tip string, imp widget.Importance, selected bool) {
	l.tip = tip
	if selected != l.bg.Visible() {
		l.bg.Hidden = !selected
		l.bg.Refresh()
	}
	if l.label.Text != text || l.label.Importance != imp {
		l.label.Text, l.label.Importance = text, imp
		l.label.Refresh()
	}
}

// Text is what the cell shows.
func (l *tipLabel) Text() string { return l.label.Text }

func (l *tipLabel) MouseIn(e *desktop.MouseEvent) {
	tip := strings.TrimSpace(l.tip)
	if tip == "" || (tip == l.label.Text && l.label.MinSize().Width <= l.Size().Width) {
		return // the whole text is on screen already
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(l)
	if c == nil {
		return
	}
	t := widget.NewLabel(tip)
	t.Wrapping = fyne.TextWrapWord
	l.popup = widget.NewPopUp(t, c)
	w := min(max(t.MinSize().Width, 120), 480)
	l.popup.Resize(fyne.NewSize(w, 0))
	l.popup.Resize(fyne.NewSize(w, l.popup.Content.MinSize().Height+theme.Padding()*2))
	l.popup.ShowAtPosition(e.AbsolutePosition.Add(fyne.NewPos(12, 16)))
}

func (l *tipLabel) MouseMoved(*desktop.MouseEvent) {}

func (l *tipLabel) MouseOut() {
	if l.popup != nil {
		l.popup.Hide()
		l.popup = nil
	}
}

// stackLayout gives every object the full size (container.NewStack without
// the allocation of a layout per cell).
type stackLayout struct{}

func (stackLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (stackLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// statusText is the status column: the code, or the outcome when no status.
func statusText(c *store.Call) string {
	switch {
	case c.Outcome == store.OutcomeClientCancelled:
		return "gone"
	case c.Outcome == store.OutcomePartial:
		return fmt.Sprintf("%d ✂", c.Status)
	case c.Status == 0:
		return c.Outcome
	}
	return fmt.Sprint(c.Status)
}

func statusImportance(c *store.Call) widget.Importance {
	switch c.Outcome {
	case store.OutcomeOK:
		return widget.SuccessImportance
	case store.OutcomeError:
		return widget.DangerImportance
	}
	return widget.WarningImportance
}

// requestText is the request column: the path, with the method unless POST
// (nearly every LLM call), so the path gets the room.
func requestText(c *store.Call) string {
	if c.Method == "" || c.Method == "POST" {
		return c.Path
	}
	return c.Method + " " + c.Path
}

// modelRoute is "requested → provider/upstream".
func modelRoute(c *store.Call) string {
	if c.Provider == "" {
		return c.Model
	}
	return c.Model + " → " + c.Provider + "/" + c.UpstreamModel
}

// formatBadge is "openai", or "openai→anthropic" for a translated call: the
// format the upstream was spoken to in is read from the URL the last attempt
// went to, so it stays true when the provider's settings change later.
func (s *historyScreen) formatBadge(c *store.Call) string {
	up := ""
	if i := lastSent(c); i >= 0 {
		up = urlFormat(c.Attempts[i].URL)
	}
	if up == "" || up == c.InboundFormat {
		return c.InboundFormat
	}
	return c.InboundFormat + "→" + up
}

// urlFormat names the wire format of an upstream endpoint URL ("" unknown).
func urlFormat(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	switch {
	case strings.HasSuffix(u, "/chat/completions"):
		return string(config.FormatOpenAI)
	case strings.HasSuffix(u, "/messages"):
		return string(config.FormatAnthropic)
	case strings.HasSuffix(u, "/responses"):
		return string(config.FormatResponses)
	case strings.Contains(u, ":generateContent"), strings.Contains(u, ":streamGenerateContent"):
		return string(config.FormatGemini)
	}
	return ""
}
