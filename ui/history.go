package ui

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// historyPage is how many summaries one fetch loads; the table asks for the
// next page when it shows one of the last prefetch rows, so a million stored
// calls cost no more to open than a hundred.
const (
	historyPage = 200
	prefetch    = 40
	anyChoice   = "any"
)

// The choices of the outcome filter: one control for "failed only" and the
// outcomes (issue 16 §4).
const (
	ShowAll       = "all calls"
	ShowFailed    = "failed"
	ShowRetried   = "retried, then answered"
	ShowOK        = "ok"
	ShowError     = "error"
	ShowPartial   = "stream cut short"
	ShowCancelled = "client hung up"
)

// The choices of the time filter.
const (
	RangeAny    = "any time"
	RangeHour   = "last hour"
	RangeToday  = "today"
	RangeWeek   = "last 7 days"
	RangeCustom = "custom…"
)

var periodChoices = []string{RangeAny, RangeHour, RangeToday, RangeWeek, RangeCustom}

// historyScreen is the table of calls with its filters, and the detail of the
// selected call.
type historyScreen struct {
	a       *App
	content fyne.CanvasObject
	detail  *detailScreen

	show     *widget.Select // outcome
	class    *widget.Select
	status   *widget.Entry
	provider *widget.Select
	model    *widget.Entry
	client   *widget.Entry // a client token's name, "local", or User-Agent text
	period   *widget.Select
	search   *widget.Entry
	summary  *widget.Label
	table    *callTable

	// from and to are the custom time range (zero: open).
	from, to time.Time

	query    store.Query
	calls    []store.Call
	next     string // cursor of the next page; "" when there is none
	loading  bool
	opened   bool
	gen      int    // bumps when the filters change: late pages of old filters are dropped
	selected string // ID of the call the detail pane shows
	err      string
}

func newHistoryScreen(a *App) *historyScreen {
	s := &historyScreen{a: a}
	s.detail = newDetailScreen(a)
	s.detail.onShown = s.follow
	s.show = widget.NewSelect([]string{ShowAll, ShowFailed, ShowRetried, ShowOK, ShowError, ShowPartial, ShowCancelled}, func(string) { s.reload() })
	s.show.PlaceHolder = ShowAll
	classes := []string{anyChoice}
	for _, c := range proxy.ErrorClasses {
		classes = append(classes, classWords(c))
	}
	s.class = widget.NewSelect(classes, func(string) { s.reload() })
	s.class.PlaceHolder = "error class"
	s.status = widget.NewEntry()
	s.status.SetPlaceHolder("status")
	s.status.OnSubmitted = func(string) { s.reload() }
	s.provider = widget.NewSelect(s.providerChoices(), func(string) { s.reload() })
	s.provider.PlaceHolder = "provider"
	s.model = widget.NewEntry()
	s.model.SetPlaceHolder("model")
	s.model.OnSubmitted = func(string) { s.reload() }
	s.client = widget.NewEntry()
	s.client.SetPlaceHolder("client")
	s.client.OnSubmitted = func(string) { s.reload() }
	s.period = widget.NewSelect(append([]string(nil), periodChoices...), s.periodChanged)
	s.period.PlaceHolder = RangeAny
	s.search = widget.NewEntry()
	s.search.SetPlaceHolder("search bodies…")
	s.search.OnSubmitted = func(string) { s.reload() }
	s.search.ActionItem = widget.NewButtonWithIcon("", theme.SearchIcon(), s.reload)
	s.summary = widget.NewLabel("")
	s.summary.Importance = widget.LowImportance
	s.summary.Truncation = fyne.TextTruncateEllipsis
	s.table = s.newTable()

	filters := container.NewVBox(
		container.NewGridWithColumns(4, s.show, s.class, s.period, s.status),
		container.NewGridWithColumns(4, s.provider, s.model, s.client, s.search))
	left := container.NewBorder(filters, s.summary, nil, nil, s.table)
	split := container.NewHSplit(left, s.detail.content)
	split.Offset = 0.5
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
	if s.detail.showing == id && s.detail.call != nil {
		s.detail.selectWanted() // shown already: only the tab changes
	}
	s.detail.show(id)
	s.follow(id)
}

// ShowFailed opens the failed calls (the tray's "Show failed calls").
func (s *historyScreen) ShowFailed() {
	s.opened = true
	s.show.SetSelected(ShowFailed) // reloads
}

// ShowRange lists the calls of [from, to) (a click on the chart).
func (s *historyScreen) ShowRange(from, to time.Time) {
	s.opened = true
	s.from, s.to = from, to
	label := rangeLabel(from, to)
	s.period.Options = append(append([]string(nil), periodChoices...), label)
	if s.period.Selected == label {
		s.reload()
		return
	}
	s.period.SetSelected(label) // reloads
}

// rangeLabel names a custom range: "14:05–14:10", "Nov 29 14:05 – Nov 30 10:00".
func rangeLabel(from, to time.Time) string {
	if from.Local().YearDay() == to.Add(-time.Nanosecond).Local().YearDay() {
		return from.Local().Format("Jan 2 15:04") + "–" + to.Local().Format("15:04")
	}
	return from.Local().Format("Jan 2 15:04") + " – " + to.Local().Format("Jan 2 15:04")
}

// periodChanged applies the time filter; custom asks for the range first.
func (s *historyScreen) periodChanged(v string) {
	if v != RangeCustom {
		s.reload()
		return
	}
	from, to := widget.NewEntry(), widget.NewEntry()
	from.SetPlaceHolder("2026-11-30 14:00")
	to.SetPlaceHolder("empty: now")
	if !s.from.IsZero() {
		from.SetText(s.from.Local().Format(timeInput))
	}
	dialog.ShowForm("Calls between", "Show", "Cancel", []*widget.FormItem{
		widget.NewFormItem("From", from), widget.NewFormItem("To", to),
	}, func(ok bool) {
		if !ok {
			s.period.SetSelected(RangeAny)
			return
		}
		f, errF := parseTimeInput(from.Text)
		t, errT := parseTimeInput(to.Text)
		if errF != nil || errT != nil || f.IsZero() {
			s.summary.SetText("the range needs times like 2026-11-30 14:00")
			s.period.SetSelected(RangeAny)
			return
		}
		if t.IsZero() {
			t = s.a.b.now().Add(time.Minute)
		}
		s.ShowRange(f, t)
	}, s.a.Window())
}

// timeInput is the layout of typed times (local time).
const timeInput = "2006-01-02 15:04"

func parseTimeInput(v string) (time.Time, error) {
	if v = strings.TrimSpace(v); v == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation(timeInput, v, time.Local)
}

// follow makes the row of the call the detail pane shows the selected one,
// now or once it is loaded (after a replay, a search or a reload).
func (s *historyScreen) follow(id string) {
	s.selected = id
	s.selectLoaded()
}

// selectLoaded highlights the row of the selected call, if it is loaded.
func (s *historyScreen) selectLoaded() {
	for i := range s.calls {
		if s.calls[i].ID == s.selected {
			s.table.ScrollTo(widget.TableCellID{Row: i, Col: 0})
			break
		}
	}
	s.table.Refresh()
}

// openRow shows row i in the detail pane.
func (s *historyScreen) openRow(i int) {
	s.selected = s.calls[i].ID
	s.detail.show(s.selected)
	s.table.Refresh()
}

// step opens the call delta rows below the selected one (Up/Down).
func (s *historyScreen) step(delta int) {
	if len(s.calls) == 0 {
		return
	}
	i := -1
	for k := range s.calls {
		if s.calls[k].ID == s.selected {
			i = k
			break
		}
	}
	i = min(max(i+delta, 0), len(s.calls)-1)
	s.openRow(i)
	s.table.ScrollTo(widget.TableCellID{Row: i, Col: 0})
}

// open loads the first page the first time the tab is shown.
func (s *historyScreen) open() {
	if !s.opened {
		s.opened = true
		s.reload()
	}
}

// currentQuery reads the filters.
func (s *historyScreen) currentQuery() store.Query {
	q := store.Query{Limit: historyPage}
	switch s.show.Selected {
	case ShowFailed:
		q.FailedOnly = true
	case ShowRetried:
		q.Retried = true
	case ShowOK:
		q.Outcome = store.OutcomeOK
	case ShowError:
		q.Outcome = store.OutcomeError
	case ShowPartial:
		q.Outcome = store.OutcomePartial
	case ShowCancelled:
		q.Outcome = store.OutcomeClientCancelled
	}
	for _, c := range proxy.ErrorClasses {
		if classWords(c) == s.class.Selected {
			q.ErrorClass = string(c)
		}
	}
	q.Status, _ = strconv.Atoi(strings.TrimSpace(s.status.Text))
	if v := s.provider.Selected; v != "" && v != anyChoice {
		q.Provider = v
	}
	q.Model = strings.TrimSpace(s.model.Text)
	q.Client = strings.TrimSpace(s.client.Text)
	q.Search = strings.TrimSpace(s.search.Text)
	now := s.a.b.now()
	switch s.period.Selected {
	case RangeAny, "", RangeCustom:
	case RangeHour:
		q.Since = now.Add(-time.Hour)
	case RangeToday:
		q.Since = startOfDay(now)
	case RangeWeek:
		q.Since = now.Add(-7 * 24 * time.Hour)
	default: // the custom range, named by its label
		q.Since, q.Until = s.from, s.to
	}
	return q
}

// reload starts over with the current filters; on the UI thread. The call the
// detail pane shows stays selected if the new list has it.
func (s *historyScreen) reload() {
	s.opened = true
	s.gen++
	s.query = s.currentQuery()
	s.detail.highlight(s.query.Search)
	s.calls, s.next, s.loading, s.err = nil, "", false, ""
	s.table.UnselectAll()
	s.table.ScrollToTop()
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
			s.table.Refresh()
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
		s.summary.SetText(fmt.Sprintf("%s calls shown, newest first; scroll for older ones · ↑/↓ open the next call", thousands(int64(len(s.calls)))))
	default:
		s.summary.SetText(fmt.Sprintf("%s calls · ↑/↓ open the next call", thousands(int64(len(s.calls)))))
	}
}

// arrived takes a new call from the live feed (any goroutine).
func (s *historyScreen) arrived(c *store.Call) {
	runOnUI(func() {
		// A search needs the bodies, which summaries lack: refreshing is the user's call.
		if !s.opened || s.query.Search != "" || !s.query.Matches(c) {
			return
		}
		s.calls = append([]store.Call{*c}, s.calls...)
		s.showSummary()
		s.table.Refresh() // the selected call's row keeps its highlight (by id)
	})
}
