package ui

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Chart geometry: calls and failures per 5 minutes over the last 24 hours.
const (
	chartStep  = 5 * time.Minute
	chartRange = 24 * time.Hour
	// chartMinSpan is the narrowest window the chart zooms to.
	chartMinSpan = 12 // buckets: one hour
)

// activityChart is the overview's bar chart (issue 16 §5): it zooms to the
// part of the 24 hours that has calls, draws a count axis and time labels,
// tells the counts of the bar under the pointer, and a click on a bar opens
// History for those 5 minutes.
type activityChart struct {
	widget.BaseWidget
	all, shown []Bucket
	raster     *canvas.Raster
	yTop, yMid *canvas.Text
	xLabels    [3]*canvas.Text
	colors     func() (ok, bad, axis color.Color)
	// hover is told the counts under the pointer ("" when it leaves);
	// open is asked to list the calls of [from, to).
	hover func(text string)
	open  func(from, to time.Time)
}

// Room for the axis labels, in points.
const (
	chartGutter = 34
	chartFooter = 16
)

func newActivityChart(colors func() (ok, bad, axis color.Color), hover func(string), open func(from, to time.Time)) *activityChart {
	c := &activityChart{colors: colors, hover: hover, open: open}
	c.raster = canvas.NewRaster(func(w, h int) image.Image {
		ok, bad, axis := c.colors()
		return drawActivity(c.shown, w, h, ok, bad, axis)
	})
	label := func(align fyne.TextAlign) *canvas.Text {
		t := canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
		t.TextSize = theme.CaptionTextSize()
		t.Alignment = align
		return t
	}
	c.yTop, c.yMid = label(fyne.TextAlignTrailing), label(fyne.TextAlignTrailing)
	c.xLabels = [3]*canvas.Text{label(fyne.TextAlignLeading), label(fyne.TextAlignCenter), label(fyne.TextAlignTrailing)}
	c.ExtendBaseWidget(c)
	return c
}

// set shows new buckets (the whole 24 hours, oldest first); on the UI thread.
func (c *activityChart) set(buckets []Bucket) {
	c.all = buckets
	c.shown = zoomBuckets(buckets)
	maxCalls := 0
	for _, b := range c.shown {
		maxCalls = max(maxCalls, b.Calls)
	}
	c.yTop.Text, c.yMid.Text = "", ""
	if maxCalls > 0 {
		c.yTop.Text = compact(int64(maxCalls))
		if maxCalls >= 2 {
			c.yMid.Text = compact(int64(maxCalls / 2))
		}
	}
	for i := range c.xLabels {
		c.xLabels[i].Text = ""
	}
	if n := len(c.shown); n > 0 {
		c.xLabels[0].Text = c.shown[0].Start.Local().Format("15:04")
		c.xLabels[1].Text = c.shown[n/2].Start.Local().Format("15:04")
		c.xLabels[2].Text = c.shown[n-1].Start.Add(chartStep).Local().Format("15:04")
	}
	c.Refresh()
}

// zoomBuckets is the tail of buckets that starts a little before the first
// call, at least an hour long: recent traffic fills the chart instead of a
// two-pixel sliver at its right edge.
func zoomBuckets(buckets []Bucket) []Bucket {
	first := len(buckets)
	for i, b := range buckets {
		if b.Calls > 0 {
			first = i
			break
		}
	}
	start := max(min(first-1, len(buckets)-chartMinSpan), 0)
	return buckets[start:]
}

// bucketAt is the shown bucket under x (in the widget), if any.
func (c *activityChart) bucketAt(x float32) (Bucket, bool) {
	w := c.Size().Width - chartGutter
	if len(c.shown) == 0 || x < chartGutter || w <= 0 {
		return Bucket{}, false
	}
	i := int((x - chartGutter) / w * float32(len(c.shown)))
	if i < 0 || i >= len(c.shown) {
		return Bucket{}, false
	}
	return c.shown[i], true
}

// bucketText is "14:05–14:10 · 12 calls, 3 failed".
func bucketText(b Bucket) string {
	calls := "calls"
	if b.Calls == 1 {
		calls = "call"
	}
	return fmt.Sprintf("%s–%s · %d %s, %d failed · click to list them", b.Start.Local().Format("15:04"), b.Start.Add(chartStep).Local().Format("15:04"), b.Calls, calls, b.Failed)
}

var (
	_ desktop.Hoverable = (*activityChart)(nil)
	_ fyne.Tappable     = (*activityChart)(nil)
)

func (c *activityChart) MouseIn(e *desktop.MouseEvent) { c.MouseMoved(e) }

func (c *activityChart) MouseMoved(e *desktop.MouseEvent) {
	if b, ok := c.bucketAt(e.Position.X); ok && c.hover != nil {
		c.hover(bucketText(b))
	}
}

func (c *activityChart) MouseOut() {
	if c.hover != nil {
		c.hover("")
	}
}

func (c *activityChart) Tapped(e *fyne.PointEvent) {
	if b, ok := c.bucketAt(e.Position.X); ok && b.Calls > 0 && c.open != nil {
		c.open(b.Start, b.Start.Add(chartStep))
	}
}

func (c *activityChart) MinSize() fyne.Size { return fyne.NewSize(400, 130) }

func (c *activityChart) CreateRenderer() fyne.WidgetRenderer {
	objs := []fyne.CanvasObject{c.raster, c.yTop, c.yMid, c.xLabels[0], c.xLabels[1], c.xLabels[2]}
	return &chartRenderer{c: c, objs: objs}
}

type chartRenderer struct {
	c    *activityChart
	objs []fyne.CanvasObject
}

func (r *chartRenderer) Layout(s fyne.Size) {
	c := r.c
	plotH := s.Height - chartFooter
	c.raster.Move(fyne.NewPos(chartGutter, 0))
	c.raster.Resize(fyne.NewSize(s.Width-chartGutter, plotH))
	lh := c.yTop.MinSize().Height
	c.yTop.Move(fyne.NewPos(0, 0))
	c.yTop.Resize(fyne.NewSize(chartGutter-4, lh))
	c.yMid.Move(fyne.NewPos(0, plotH/2-lh/2))
	c.yMid.Resize(fyne.NewSize(chartGutter-4, lh))
	w := (s.Width - chartGutter) / 3
	for i, l := range c.xLabels {
		l.Move(fyne.NewPos(chartGutter+float32(i)*w, plotH))
		l.Resize(fyne.NewSize(w, chartFooter))
	}
}

func (r *chartRenderer) MinSize() fyne.Size { return r.c.MinSize() }

func (r *chartRenderer) Refresh() {
	r.Layout(r.c.Size())
	for _, o := range r.objs {
		o.Refresh()
	}
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *chartRenderer) Destroy()                     {}

// drawActivity draws one bar per bucket into a w×h image: calls in ok, the
// failed part of each bar in bad, on a transparent background with a baseline
// and a left axis.
func drawActivity(buckets []Bucket, w, h int, ok, bad, axis color.Color) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w <= 0 || h <= 2 || len(buckets) == 0 {
		return img
	}
	maxCalls := 1
	for _, b := range buckets {
		maxCalls = max(maxCalls, b.Calls)
	}
	draw.Draw(img, image.Rect(0, h-1, w, h), image.NewUniform(axis), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, 0, 1, h), image.NewUniform(axis), image.Point{}, draw.Src)
	usable := float64(h - 2)
	for i, b := range buckets {
		if b.Calls == 0 {
			continue
		}
		x0 := max(i*w/len(buckets), 2)
		x1 := max((i+1)*w/len(buckets)-1, x0+1)
		total := max(int(float64(b.Calls)/float64(maxCalls)*usable+0.5), 1)
		fail := 0
		if b.Failed > 0 {
			fail = max(int(float64(b.Failed)/float64(maxCalls)*usable+0.5), 1)
		}
		draw.Draw(img, image.Rect(x0, h-1-total, x1, h-1-fail), image.NewUniform(ok), image.Point{}, draw.Src)
		if fail > 0 {
			draw.Draw(img, image.Rect(x0, h-1-fail, x1, h-1), image.NewUniform(bad), image.Point{}, draw.Src)
		}
	}
	return img
}
