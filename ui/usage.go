package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// TabUsage is the Usage screen's tab.
const TabUsage = "Usage"

// Usage is an optional History capability: the hourly usage rollups (the
// store's; `gatehouse stats` reads the same).
type Usage interface {
	Usage(ctx context.Context, q store.UsageQuery) (store.UsageReport, error)
}

// usageRange is one of the screen's time ranges.
type usageRange struct {
	name  string        // as the range picker shows it
	span  time.Duration // how far back
	step  time.Duration // chart step
	words string        // the headline's "this week"
}

var usageRanges = []usageRange{
	{"24 h", 24 * time.Hour, time.Hour, "in the last 24 hours"},
	{"7 d", 7 * 24 * time.Hour, time.Hour, "this week"},
	{"30 d", 30 * 24 * time.Hour, 24 * time.Hour, "this month"},
}

// usageGroups are the dimensions the table groups by ("client" is "local"
// until calls carry client tokens).
var usageGroups = []string{"provider", "model", "client"}

// usageScreen shows calls, failures, saved calls, tokens, cost and latency
// over a range, as figures, charts and a table by provider, model or client.
type usageScreen struct {
	a       *App
	content fyne.CanvasObject

	rng   usageRange
	by    string
	rep   store.UsageReport
	ready bool

	headline                              *widget.Label
	calls, failed, saved, tok, cost, lat  *widget.Label
	trafficChart, costChart, latencyChart *canvas.Raster
	trafficNote, costNote, latencyNote    *widget.Label
	table                                 *fyne.Container
	note                                  *widget.Label
}

func newUsageScreen(a *App) *usageScreen {
	s := &usageScreen{a: a, rng: usageRanges[1], by: usageGroups[0]}
	names := make([]string, len(usageRanges))
	for i, r := range usageRanges {
		names[i] = r.name
	}
	pickRange := widget.NewRadioGroup(names, func(name string) {
		for _, r := range usageRanges {
			if r.name == name && r != s.rng {
				s.rng = r
				s.refresh()
			}
		}
	})
	pickRange.Horizontal, pickRange.Required = true, true
	pickRange.SetSelected(s.rng.name)
	pickBy := widget.NewSelect(usageGroups, func(by string) {
		if by != s.by {
			s.by = by
			s.refresh()
		}
	})
	pickBy.SetSelected(s.by)

	s.headline = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.headline.SizeName = theme.SizeNameSubHeadingText
	s.headline.Wrapping = fyne.TextWrapWord
	s.calls, s.failed, s.saved, s.tok, s.cost, s.lat = bigNumber(), bigNumber(), bigNumber(), bigNumber(), bigNumber(), bigNumber()
	figures := container.NewGridWithColumns(3,
		figure("calls", s.calls), figure("failed", s.failed), figure("saved by retries", s.saved),
		figure("tokens in / out", s.tok), figure("cost", s.cost), figure("latency p50 / p95 / p99", s.lat))

	s.trafficChart = canvas.NewRaster(s.drawTraffic)
	s.costChart = canvas.NewRaster(s.drawCost)
	s.latencyChart = canvas.NewRaster(s.drawLatency)
	for _, c := range []*canvas.Raster{s.trafficChart, s.costChart, s.latencyChart} {
		c.SetMinSize(fyne.NewSize(300, 130))
	}
	s.trafficNote, s.costNote, s.latencyNote = widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel("")
	for _, l := range []*widget.Label{s.trafficNote, s.costNote, s.latencyNote} {
		l.Importance = widget.LowImportance
	}
	s.note = widget.NewLabel("")
	s.note.Importance = widget.LowImportance
	s.table = container.NewVBox()

	top := container.NewBorder(nil, nil, pickRange, container.NewHBox(widget.NewLabel("by"), pickBy))
	s.content = container.NewVScroll(container.NewVBox(
		top,
		widget.NewCard("", "", container.NewVBox(s.headline, figures)),
		widget.NewCard("Calls", "answered (blue), saved by a retry or fallback (amber), failed (red)",
			container.NewBorder(nil, s.trafficNote, nil, nil, s.trafficChart)),
		container.NewGridWithColumns(2,
			widget.NewCard("Cost", "US dollars, from the price table", container.NewBorder(nil, s.costNote, nil, nil, s.costChart)),
			widget.NewCard("Latency", "p50 (blue) and p95 (amber)", container.NewBorder(nil, s.latencyNote, nil, nil, s.latencyChart))),
		widget.NewCard("By", "", s.table),
		s.note,
	))
	return s
}

// refresh queries the rollups off the UI thread, then shows them.
func (s *usageScreen) refresh() {
	src, ok := s.a.b.History.(Usage)
	if !ok {
		s.headline.SetText("Usage needs the call history (recording is off or unavailable)")
		return
	}
	rng, by := s.rng, s.by
	go func() {
		rep, err := s.query(src, rng, by)
		runOnUI(func() {
			if err != nil {
				s.headline.SetText("Cannot read the usage: " + err.Error())
				return
			}
			if rng == s.rng && by == s.by {
				s.show(rep)
			}
		})
	}()
}

func (s *usageScreen) query(src Usage, rng usageRange, by string) (store.UsageReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := s.a.b.now()
	to := now.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-rng.span)
	if rng.step == 24*time.Hour {
		from = startOfDay(now).Add(-rng.span + 24*time.Hour)
	}
	return src.Usage(ctx, store.UsageQuery{From: from, To: to, By: by, Step: rng.step})
}

// show puts a report on screen; on the UI thread.
func (s *usageScreen) show(rep store.UsageReport) {
	s.rep, s.ready = rep, true
	t := rep.Total
	s.headline.SetText(headline(t, s.rng.words))
	s.calls.SetText(compact(t.Calls))
	s.failed.SetText(compact(t.Failures))
	s.saved.SetText(compact(t.Saved))
	s.tok.SetText(compact(t.InputTokens) + " / " + compact(t.OutputTokens))
	s.cost.SetText(costFigure(t))
	s.lat.SetText(shortMS(t.LatencyP50MS) + " / " + shortMS(t.LatencyP95MS) + " / " + shortMS(t.LatencyP99MS))
	s.showTable(rep)
	s.chartNotes(rep)
	s.note.SetText(fmt.Sprintf("Whole hours from %s to %s. Statistics outlive the calls that retention removes from History.",
		rep.From.Local().Format("Jan 2 15:04"), rep.To.Local().Format("Jan 2 15:04")))
	s.trafficChart.Refresh()
	s.costChart.Refresh()
	s.latencyChart.Refresh()
}

// chartNotes say what each chart peaks at, and when.
func (s *usageScreen) chartNotes(rep store.UsageReport) {
	unit := "hour"
	if s.rng.step == 24*time.Hour {
		unit = "day"
	}
	when := func(t time.Time) string {
		if unit == "day" {
			return t.Local().Format("Mon Jan 2")
		}
		return t.Local().Format("Mon Jan 2 15:00")
	}
	var busiest, dearest, slowest store.UsagePoint
	for _, p := range rep.Series {
		if p.Calls > busiest.Calls {
			busiest = p
		}
		if p.CostUSD > dearest.CostUSD {
			dearest = p
		}
		if p.LatencyP95MS > slowest.LatencyP95MS {
			slowest = p
		}
	}
	if busiest.Calls == 0 {
		s.trafficNote.SetText("")
		s.costNote.SetText("")
		s.latencyNote.SetText("")
		return
	}
	s.trafficNote.SetText(fmt.Sprintf("busiest %s: %s calls, %s; %s failed, %s saved", unit, thousands(busiest.Calls), when(busiest.Start),
		thousands(busiest.Failures), thousands(busiest.Saved)))
	if dearest.CostUSD > 0 {
		s.costNote.SetText(fmt.Sprintf("dearest %s: %s, %s", unit, cli.FormatUSD(dearest.CostUSD), when(dearest.Start)))
	} else {
		s.costNote.SetText("no priced calls")
	}
	s.latencyNote.SetText(fmt.Sprintf("slowest %s: p95 %s, %s", unit, shortMS(slowest.LatencyP95MS), when(slowest.Start)))
}

// headline is the one sentence the screen leads with.
func headline(t store.UsageTotals, when string) string {
	switch {
	case t.Calls == 0:
		return "No calls " + when
	case t.Saved > 0:
		return fmt.Sprintf("Retries and fallbacks saved %s %s %s", thousands(t.Saved), plural(t.Saved, "call", "calls"), when)
	case t.Failures == 0:
		return fmt.Sprintf("All %s calls answered %s", thousands(t.Calls), when)
	}
	return fmt.Sprintf("%s of %s calls failed %s", thousands(t.Failures), thousands(t.Calls), when)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// costFigure is a total cost: "–" when no call had a price, "$1.23+" when some lacked one.
func costFigure(t store.UsageTotals) string {
	if t.Calls == 0 || t.CostUnknownCalls > 0 && t.CostUSD == 0 {
		return "–"
	}
	s := cli.FormatUSD(t.CostUSD)
	if t.CostUnknownCalls > 0 {
		s += "+"
	}
	return s
}

// shortMS is a latency in few characters: "850 ms", "1.2 s", "42 s", "21 min".
func shortMS(ms int64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 10_000:
		return fmt.Sprintf("%.1f s", float64(ms)/1000)
	case ms < 100_000:
		return fmt.Sprintf("%d s", ms/1000)
	}
	return fmt.Sprintf("%d min", ms/60_000)
}

// showTable lists the groups. Each column is as wide as its widest cell (a
// grid would make all of them as wide as the widest of all).
func (s *usageScreen) showTable(rep store.UsageReport) {
	heads := []string{s.by, "calls (share)", "failed · saved", "tokens in / out", "cost", "latency p50 / p95 / p99"}
	cols := make([]*fyne.Container, len(heads))
	for i, h := range heads {
		cols[i] = container.NewVBox(widget.NewLabelWithStyle(h, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	for _, g := range rep.Groups {
		share := 0.0
		if rep.Total.Calls > 0 {
			share = float64(g.Calls) * 100 / float64(rep.Total.Calls)
		}
		failed := widget.NewLabel(compact(g.Failures) + " · " + compact(g.Saved))
		if g.Failures*20 > g.Calls { // over 5 % failed
			failed.Importance = widget.DangerImportance
		}
		for i, cell := range []fyne.CanvasObject{
			widget.NewLabel(cut(g.Key, 28)),
			widget.NewLabel(fmt.Sprintf("%s (%.0f %%)", compact(g.Calls), share)),
			failed,
			widget.NewLabel(compact(g.InputTokens) + " / " + compact(g.OutputTokens)),
			widget.NewLabel(costFigure(g.UsageTotals)),
			widget.NewLabel(shortMS(g.LatencyP50MS) + " / " + shortMS(g.LatencyP95MS) + " / " + shortMS(g.LatencyP99MS)),
		} {
			cols[i].Add(cell)
		}
	}
	row := container.NewHBox()
	for _, c := range cols {
		row.Add(c)
	}
	s.table.Objects = []fyne.CanvasObject{row}
	s.table.Refresh()
}

// cut shortens s to n runes with an ellipsis.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Chart colours: the theme's primary for ok, amber for saved, red for failed.
var (
	colourSaved  = color.NRGBA{0xe8, 0xa3, 0x17, 0xff}
	colourFailed = color.NRGBA{0xd9, 0x30, 0x25, 0xff}
)

func (s *usageScreen) colours() (primary, axis color.Color) {
	th, v := s.a.fy.Settings().Theme(), s.a.fy.Settings().ThemeVariant()
	return th.Color(theme.ColorNamePrimary, v), th.Color(theme.ColorNameSeparator, v)
}

func (s *usageScreen) drawTraffic(w, h int) image.Image {
	ok, axis := s.colours()
	n := len(s.rep.Series)
	stacks := make([][3]float64, n)
	for i, p := range s.rep.Series {
		stacks[i] = [3]float64{float64(p.Calls - p.Failures - p.Saved), float64(p.Saved), float64(p.Failures)}
	}
	return drawStacked(stacks, [3]color.Color{ok, colourSaved, colourFailed}, axis, w, h)
}

func (s *usageScreen) drawCost(w, h int) image.Image {
	ok, axis := s.colours()
	stacks := make([][3]float64, len(s.rep.Series))
	for i, p := range s.rep.Series {
		stacks[i][0] = p.CostUSD
	}
	return drawStacked(stacks, [3]color.Color{ok, ok, ok}, axis, w, h)
}

func (s *usageScreen) drawLatency(w, h int) image.Image {
	ok, axis := s.colours()
	p50 := make([]float64, len(s.rep.Series))
	p95 := make([]float64, len(s.rep.Series))
	for i, p := range s.rep.Series {
		p50[i], p95[i] = float64(p.LatencyP50MS), float64(p.LatencyP95MS)
	}
	return drawLines([][]float64{p95, p50}, []color.Color{colourSaved, ok}, axis, w, h)
}

// drawStacked draws one bar per step, its three parts stacked bottom up, on a
// transparent w×h image with a baseline.
func drawStacked(stacks [][3]float64, colours [3]color.Color, axis color.Color, w, h int) image.Image {
	img, ok := chartImage(axis, w, h)
	if !ok {
		return img
	}
	top := 0.0
	for _, st := range stacks {
		top = max(top, st[0]+st[1]+st[2])
	}
	if top <= 0 {
		return img
	}
	usable := float64(h - 2)
	for i, st := range stacks {
		x0 := i * w / len(stacks)
		x1 := max((i+1)*w/len(stacks)-1, x0+1)
		y := h - 1
		for k, v := range st {
			if v <= 0 {
				continue
			}
			dy := max(int(v/top*usable+0.5), 1)
			draw.Draw(img, image.Rect(x0, y-dy, x1, y), image.NewUniform(colours[k]), image.Point{}, draw.Src)
			y -= dy
		}
	}
	return img
}

// drawLines draws each series as a 2-pixel polyline over the steps (zeros are
// gaps: no calls, no latency).
func drawLines(series [][]float64, colours []color.Color, axis color.Color, w, h int) image.Image {
	img, ok := chartImage(axis, w, h)
	if !ok {
		return img
	}
	top := 0.0
	for _, s := range series {
		for _, v := range s {
			top = max(top, v)
		}
	}
	if top <= 0 {
		return img
	}
	usable := float64(h - 3)
	for k, s := range series {
		c := colours[k]
		px, py := -1, -1
		for i, v := range s {
			x := i*w/len(s) + w/len(s)/2
			if v <= 0 {
				px = -1
				continue
			}
			y := h - 2 - int(v/top*usable+0.5)
			if px >= 0 {
				line(img, px, py, x, y, c)
			} else {
				line(img, x, y, x, y, c)
			}
			px, py = x, y
		}
	}
	return img
}

// chartImage is a transparent w×h image with a baseline in axis; ok is false
// when it is too small to draw on.
func chartImage(axis color.Color, w, h int) (img *image.NRGBA, ok bool) {
	img = image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	if w <= 0 || h <= 2 {
		return img, false
	}
	draw.Draw(img, image.Rect(0, h-1, w, h), image.NewUniform(axis), image.Point{}, draw.Src)
	return img, true
}

// line draws a 2-pixel-thick segment (Bresenham).
func line(img *image.NRGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	err := dx + dy
	for range 10_000 {
		img.Set(x0, y0, c)
		img.Set(x0, y0-1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// todayCost adds today's cost to today's figures, from the rollups (whole
// hours since midnight: today exactly). Off the UI thread.
func (a *App) todayCost(today *Stats) {
	src, ok := a.b.History.(Usage)
	if !ok {
		today.Unpriced = today.Calls
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := a.b.now()
	rep, err := src.Usage(ctx, store.UsageQuery{From: startOfDay(now), To: now.Truncate(time.Hour).Add(time.Hour)})
	if err != nil {
		a.b.log().Warn("today's cost", "err", err)
		today.Unpriced = today.Calls
		return
	}
	today.CostUSD, today.Unpriced = rep.Total.CostUSD, rep.Total.CostUnknownCalls
}

// callCost is one call's cost: "–" when unknown, never $0 for it.
func callCost(c *store.Call) string {
	if c.CostUSD == nil {
		return "–"
	}
	return cli.FormatUSD(*c.CostUSD)
}
