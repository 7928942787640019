package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
)

// historyPage is how many summaries one fetch loads; the list asks for the next
// page when it shows one of the last prefetch rows, so a million stored calls
// cost no more to open than a hundred.
const (
	historyPage = 200
	prefetch    = 40
	anyChoice   = "any"
)

// historyScreen is the virtualised list of calls with its filters, and the
// detail of the selected call.
type historyScreen struct {
	a       *App
	content fyne.CanvasObject
	detail  *detailScreen

	failedOnly *widget.Check
	outcome    *widget.Select
	provider   *widget.Select
	model      *widget.Entry
	search     *widget.Entry
	summary    *widget.Label
	list       *widget.List

	query    Query
	calls    []*proxy.Call
	next     string // cursor of the next page; "" when there is none
	loading  bool
	opened   bool
	gen      int    // bumps when the filters change: late pages of old filters are dropped
	selected string // ID of the selected call
	err      string
}

func newHistoryScreen(a *App) *historyScreen {
	s := &historyScreen{a: a}
	s.detail = newDetailScreen(a)
	s.failedOnly = widget.NewCheck("Failed only", func(bool) { s.reload() })
	outcomes := []string{anyChoice, string(proxy.OutcomeOK), string(proxy.OutcomeError), string(proxy.OutcomePartial), string(proxy.OutcomeClientCancelled)}
	s.outcome = widget.NewSelect(outcomes, func(string) { s.reload() })
	s.outcome.PlaceHolder = "outcome"
	s.provider = widget.NewSelect(s.providerChoices(), func(string) { s.reload() })
	s.provider.PlaceHolder = "provider"
	s.model = widget.NewEntry()
	s.model.SetPlaceHolder("model")
	s.model.OnSubmitted = func(string) { s.reload() }
	s.search = widget.NewEntry()
	s.search.SetPlaceHolder("search bodies…")
	s.search.OnSubmitted = func(string) { s.reload() }
	s.search.ActionItem = widget.NewButtonWithIcon("", theme.SearchIcon(), s.reload)
	s.summary = widget.NewLabel("")
	s.summary.Importance = widget.LowImportance

	s.list = widget.NewList(s.length, newHistoryRow, s.updateRow)
	s.list.OnSelected = func(id widget.ListItemID) {
		if id < len(s.calls) {
			s.selected = s.calls[id].ID
			s.detail.show(s.selected)
		}
	}

	// Two rows keep the list pane narrow enough for the detail beside it.
	filters := container.NewVBox(
		container.NewBorder(nil, nil, s.failedOnly, nil, container.NewGridWithColumns(2, s.outcome, s.provider)),
		container.NewGridWithColumns(2, s.model, s.search))
	left := container.NewBorder(container.NewVBox(filters, historyHeader()), s.summary, nil, nil, s.list)
	split := container.NewHSplit(left, s.detail.content)
	split.Offset = 0.58
	s.content = split
	return s
}

func (s *historyScreen) providerChoices() []string {
	out := []string{anyChoice}
	if s.a.b.Providers != nil {
		var names []string
		for _, p := range s.a.b.Providers.List() {
			names = append(names, p.Name)
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out
}

// openCall shows call id in the detail pane and selects its row once loaded.
func (s *historyScreen) openCall(id string) {
	s.open()
	s.selected = id
	s.detail.show(id)
	s.selectLoaded()
}

// selectLoaded selects the row of the selected call, if it is loaded.
func (s *historyScreen) selectLoaded() {
	for i, c := range s.calls {
		if c.ID == s.selected {
			s.list.Select(i)
			s.list.ScrollTo(i)
			return
		}
	}
}

// open loads the first page the first time the tab is shown.
func (s *historyScreen) open() {
	if !s.opened {
		s.opened = true
		s.reload()
	}
}

// currentQuery reads the filters.
func (s *historyScreen) currentQuery() Query {
	q := Query{FailedOnly: s.failedOnly.Checked, Limit: historyPage}
	if v := s.outcome.Selected; v != "" && v != anyChoice {
		q.Outcome = proxy.Outcome(v)
	}
	if v := s.provider.Selected; v != "" && v != anyChoice {
		q.Provider = v
	}
	q.Model = strings.TrimSpace(s.model.Text)
	q.Search = strings.TrimSpace(s.search.Text)
	return q
}

// reload starts over with the current filters; on the UI thread.
func (s *historyScreen) reload() {
	s.opened = true
	s.gen++
	s.query = s.currentQuery()
	s.calls, s.next, s.loading, s.err = nil, "", false, ""
	s.list.UnselectAll()
	s.selected = ""
	s.list.ScrollToTop()
	s.fetch()
}

// fetch loads the next page in the background; on the UI thread.
func (s *historyScreen) fetch() {
	if s.loading || s.a.b.History == nil {
		return
	}
	s.loading = true
	q, gen := s.query, s.gen
	q.Before = s.next
	s.showSummary()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p, err := s.a.b.History.Page(ctx, q)
		runOnUI(func() {
			if gen != s.gen {
				return
			}
			s.loading = false
			if err != nil {
				s.err = err.Error()
				s.a.b.log().Warn("history page", "err", err)
			} else {
				s.calls = append(s.calls, p.Calls...)
				s.next = p.Next
			}
			s.showSummary()
			s.list.Refresh()
			if s.selected != "" {
				s.selectLoaded()
			}
			if err == nil && len(p.Calls) == 0 && p.Next != "" {
				s.fetch() // the store stopped scanning before finding a match: go on
			}
		})
	}()
}

func (s *historyScreen) showSummary() {
	switch {
	case s.err != "":
		s.summary.SetText("history: " + s.err)
	case s.loading && len(s.calls) == 0:
		s.summary.SetText("loading…")
	case len(s.calls) == 0:
		s.summary.SetText("no calls match")
	case s.next != "":
		s.summary.SetText(fmt.Sprintf("%s calls shown, newest first; scroll for older ones", thousands(int64(len(s.calls)))))
	default:
		s.summary.SetText(fmt.Sprintf("%s calls", thousands(int64(len(s.calls)))))
	}
}

// arrived takes a new call from the live feed (any goroutine).
func (s *historyScreen) arrived(c *proxy.Call) {
	runOnUI(func() {
		// A search needs the bodies, which summaries lack: refreshing is the user's call.
		if !s.opened || s.query.Search != "" || !s.query.Matches(c) {
			return
		}
		s.calls = append([]*proxy.Call{c}, s.calls...)
		s.showSummary()
		s.list.Refresh()
		if s.selected != "" {
			s.selectLoaded()
		}
	})
}

func (s *historyScreen) length() int { return len(s.calls) }

// Row columns: time, status, method + path, model → provider/model, duration,
// tokens, attempts.
var historyColumns = []float32{76, 58, 0, 0, 70, 70, 36}

func historyHeader() fyne.CanvasObject {
	names := []string{"Time", "Status", "Request", "Model → provider/model", "Duration", "Tokens", "Tries"}
	objs := make([]fyne.CanvasObject, len(names))
	for i, n := range names {
		l := widget.NewLabelWithStyle(n, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Truncation = fyne.TextTruncateEllipsis
		objs[i] = l
	}
	return container.New(&columnsLayout{widths: historyColumns}, objs...)
}

func newHistoryRow() fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, len(historyColumns))
	for i := range objs {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		objs[i] = l
	}
	return container.New(&columnsLayout{widths: historyColumns}, objs...)
}

func (s *historyScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(s.calls) {
		return
	}
	if s.next != "" && id >= len(s.calls)-prefetch {
		s.fetch()
	}
	c := s.calls[id]
	cells := o.(*fyne.Container).Objects
	set := func(i int, text string, imp widget.Importance) {
		l := cells[i].(*widget.Label)
		if l.Text != text || l.Importance != imp {
			l.Text, l.Importance = text, imp
			l.Refresh()
		}
	}
	set(0, clock(c.Start, s.a.b.now()), widget.MediumImportance)
	set(1, statusText(c), statusImportance(c))
	set(2, requestText(c), widget.MediumImportance)
	set(3, modelRoute(c), widget.MediumImportance)
	set(4, shortDuration(c.Duration), widget.MediumImportance)
	set(5, tokens(c.Usage.InputTokens)+"/"+tokens(c.Usage.OutputTokens), widget.MediumImportance)
	badge, imp := "", widget.MediumImportance
	if n := len(c.Attempts); n > 1 {
		badge, imp = fmt.Sprintf("%d×", n), widget.WarningImportance
	}
	set(6, badge, imp)
}

// statusText is the status column: the code, or the outcome when no status.
func statusText(c *proxy.Call) string {
	switch {
	case c.Outcome == proxy.OutcomeClientCancelled:
		return "gone"
	case c.Outcome == proxy.OutcomePartial:
		return fmt.Sprintf("%d ✂", c.Status)
	case c.Status == 0:
		return string(c.Outcome)
	}
	return fmt.Sprint(c.Status)
}

func statusImportance(c *proxy.Call) widget.Importance {
	switch c.Outcome {
	case proxy.OutcomeOK:
		return widget.SuccessImportance
	case proxy.OutcomeError:
		return widget.DangerImportance
	}
	return widget.WarningImportance
}

// requestText is the request column: the path, with the method unless POST
// (nearly every LLM call), so the path gets the room.
func requestText(c *proxy.Call) string {
	if c.Method == "" || c.Method == "POST" {
		return c.Path
	}
	return c.Method + " " + c.Path
}

// modelRoute is "requested → provider/upstream".
func modelRoute(c *proxy.Call) string {
	if c.Provider == "" {
		return c.Model
	}
	return c.Model + " → " + c.Provider + "/" + c.UpstreamModel
}

// columnsLayout lays cells out in a row: fixed widths, and the zero-width
// columns share what is left.
type columnsLayout struct{ widths []float32 }

func (l *columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	fixed, flex := float32(0), 0
	for _, w := range l.widths {
		if w == 0 {
			flex++
		}
		fixed += w
	}
	rest := float32(0)
	if flex > 0 {
		rest = max(size.Width-fixed, 40) / float32(flex)
	}
	x := float32(0)
	for i, o := range objs {
		w := l.widths[i]
		if w == 0 {
			w = rest
		}
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w
	}
}

func (l *columnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for i, o := range objs {
		w += max(l.widths[i], 40)
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w, h)
}
