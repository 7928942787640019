package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
)

// detailScreen shows one call: summary, diagnosis, attempts timeline, the
// request and response, and the actions.
type detailScreen struct {
	a       *App
	content fyne.CanvasObject

	placeholder *widget.Label
	body        *fyne.Container
	title       *widget.Label
	summary     *fyne.Container
	diagnosis   *widget.Label
	diagCard    *widget.Card
	attempts    *fyne.Container
	tabs        *container.AppTabs
	request     *linesView
	response    *linesView
	text        *linesView
	events      *linesView
	headers     *linesView
	status      *widget.Label // result of the last action

	copyCurl, copyJSON, replay *widget.Button
	checkNow                   *widget.Button // failed calls only (doctor.go)

	call    *proxy.Call // the call shown, in full
	showing string      // ID of the call shown or being loaded
	gen     int
}

// Tab names of the detail pane.
const (
	TabRequest  = "Request"
	TabResponse = "Response"
	TabText     = "Text"
	TabEvents   = "Events"
	TabHeaders  = "Headers"
)

func newDetailScreen(a *App) *detailScreen {
	d := &detailScreen{a: a}
	// Plain, not italic: an italic face would be one more font (two with its
	// system fallback) parsed and held for the life of the app.
	d.placeholder = widget.NewLabelWithStyle("Select a call to see what happened.", fyne.TextAlignCenter, fyne.TextStyle{})
	d.placeholder.Importance = widget.LowImportance
	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.Truncation = fyne.TextTruncateEllipsis
	d.summary = container.New(layout.NewFormLayout())
	d.diagnosis = widget.NewLabel("")
	d.diagnosis.Wrapping = fyne.TextWrapWord
	d.diagCard = widget.NewCard("", "", container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, d.diagnosis))
	d.attempts = container.NewVBox()
	d.request, d.response, d.text, d.events, d.headers = newLinesView(), newLinesView(), newLinesView(), newLinesView(), newLinesView()
	d.tabs = container.NewAppTabs(
		container.NewTabItem(TabRequest, d.request.content),
		container.NewTabItem(TabResponse, d.response.content),
		container.NewTabItem(TabText, d.text.content),
		container.NewTabItem(TabEvents, d.events.content),
		container.NewTabItem(TabHeaders, d.headers.content),
	)
	d.status = widget.NewLabel("")
	d.status.Importance = widget.LowImportance
	d.status.Truncation = fyne.TextTruncateEllipsis
	d.copyCurl = widget.NewButtonWithIcon("Copy as curl", theme.ContentCopyIcon(), d.doCopyCurl)
	d.copyJSON = widget.NewButtonWithIcon("Copy JSON", theme.ContentCopyIcon(), d.doCopyJSON)
	d.replay = widget.NewButtonWithIcon("Replay", theme.MediaReplayIcon(), d.doReplay)
	d.checkNow = a.newCheckNowButton(func() string { return doctorTarget(d.call) })
	actions := container.NewHBox(d.copyCurl, d.copyJSON, d.replay, d.checkNow)

	top := container.NewVBox(
		d.title,
		actions,
		d.status,
		d.summary,
		d.diagCard,
		widget.NewLabelWithStyle("Attempts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.attempts,
	)
	d.body = container.NewBorder(top, nil, nil, nil, d.tabs)
	d.body.Hide()
	d.content = container.NewStack(container.NewCenter(d.placeholder), d.body)
	return d
}

// shown is what the detail pane shows once a call is prepared off the UI thread.
type shownCall struct {
	c                                   *proxy.Call
	diagnosis                           string
	req, resp, text, events, headers    []string
	reqNote, respNote, textNote, evNote string
}

// show loads call id in the background and shows it; on the UI thread.
func (d *detailScreen) show(id string) {
	if id == d.showing {
		return
	}
	d.showing = id
	d.gen++
	gen := d.gen
	d.placeholder.SetText("Loading…")
	d.placeholder.Show()
	d.body.Hide()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := d.a.b.History.Call(ctx, id)
		if err != nil {
			runOnUI(func() {
				if gen == d.gen {
					d.showing = "" // selecting it again retries
					d.placeholder.SetText("Could not load call " + id + ": " + err.Error())
				}
			})
			return
		}
		sc := d.prepare(c)
		runOnUI(func() {
			if gen == d.gen {
				d.display(sc)
			}
		})
	}()
}

// prepare does the slow part (pretty-printing big bodies) off the UI thread.
func (d *detailScreen) prepare(c *proxy.Call) *shownCall {
	sc := &shownCall{c: c}
	sc.diagnosis = Diagnose(c, d.keySource)
	sc.req, sc.reqNote = bodyLines(c.Request.Body, c.Request.Truncated)
	sc.resp, sc.respNote = bodyLines(c.Response.Body, c.Response.Truncated)
	if t := responseText(c.Response.Body); t != "" {
		sc.text, sc.textNote = bodyLines([]byte(t), false)
	} else {
		sc.text = []string{"(no text in the response)"}
	}
	if len(c.Events) > 0 {
		sc.events, sc.evNote = bodyLines(c.Events, c.EventsTruncated)
	} else {
		sc.events = []string{"(not a stream)"}
	}
	sc.headers = append(sc.headers, "Request headers (secrets redacted)")
	for _, h := range c.Request.Headers {
		sc.headers = append(sc.headers, "  "+h.Name+": "+h.Value)
	}
	sc.headers = append(sc.headers, "", "Response headers")
	for _, h := range c.Response.Headers {
		sc.headers = append(sc.headers, "  "+h.Name+": "+h.Value)
	}
	return sc
}

func (d *detailScreen) keySource(provider string) KeySource {
	if d.a.b.Keys == nil {
		return KeyNone
	}
	return d.a.b.Keys.Status(provider).Source
}

// display fills the pane; on the UI thread.
func (d *detailScreen) display(sc *shownCall) {
	c := sc.c
	d.call = c
	d.title.SetText(fmt.Sprintf("%s  %s %s", statusText(c), c.Method, c.Path))
	d.title.Importance = statusImportance(c)
	d.title.Refresh()
	d.status.SetText("")
	if Failed(c) && c.Provider != "" {
		d.checkNow.Show()
	} else {
		d.checkNow.Hide()
	}

	d.summary.RemoveAll()
	row := func(k, v string) {
		d.summary.Add(widget.NewLabelWithStyle(k, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		l := widget.NewLabel(v)
		l.Truncation = fyne.TextTruncateEllipsis
		d.summary.Add(l)
	}
	outcome := string(c.Outcome)
	if c.Error != "" {
		outcome += ": " + c.Error
	}
	row("Outcome", outcome)
	row("When", c.Start.Local().Format("Mon Jan 2 15:04:05.000")+" · "+c.ID)
	row("Model", modelRoute(c)+streamWord(c.Stream))
	ttfb := "–"
	if c.TTFB > 0 {
		ttfb = shortDuration(c.TTFB)
	}
	row("Duration", shortDuration(c.Duration)+" · first byte after "+ttfb)
	row("Tokens", tokens(c.Usage.InputTokens)+" in · "+tokens(c.Usage.OutputTokens)+" out · cost "+callCost(c))
	row("Client", fmt.Sprintf("%s · %s (%s format)", orDash(c.Client), orDash(c.ClientUA), orDash(c.InboundFormat)))

	if sc.diagnosis == "" {
		d.diagCard.Hide()
	} else {
		d.diagnosis.SetText(sc.diagnosis)
		d.diagCard.Show()
	}

	d.attempts.RemoveAll()
	for i, at := range c.Attempts {
		d.attempts.Add(attemptRow(i, at))
	}
	if len(c.Attempts) == 0 {
		d.attempts.Add(widget.NewLabel("no upstream attempt (answered by Gatehouse itself)"))
	}

	d.request.set(sc.req, sc.reqNote)
	d.response.set(sc.resp, sc.respNote)
	d.text.set(sc.text, sc.textNote)
	d.events.set(sc.events, sc.evNote)
	d.headers.set(sc.headers, "")
	d.placeholder.Hide()
	if c.Stream {
		d.tabs.SelectIndex(2)
	} else if Failed(c) {
		d.tabs.SelectIndex(1)
	}
	d.body.Show()
}

func streamWord(stream bool) string {
	if stream {
		return " · stream"
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// attemptRow is one line of the timeline: "#2 ⏱ waited 250 ms → openai/gpt-4o 502
// server error in 1.2 s".
func attemptRow(i int, at proxy.Attempt) fyne.CanvasObject {
	icon := widget.NewIcon(theme.ConfirmIcon())
	result := fmt.Sprint(at.Status)
	imp := widget.SuccessImportance
	if at.Class != proxy.ClassNone || at.Error != "" || at.Status >= 400 {
		icon.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
		result = attemptError(at)
		imp = widget.DangerImportance
	} else {
		icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	}
	wait := ""
	if at.Delay > 0 {
		wait = "after waiting " + shortDuration(at.Delay) + " · "
	}
	head := widget.NewLabel(fmt.Sprintf("#%d  %s", i+1, target(at)))
	head.TextStyle.Bold = true
	res := widget.NewLabel(result)
	res.Importance = imp
	res.TextStyle.Bold = true
	tail := widget.NewLabel(wait + "took " + shortDuration(at.Duration))
	tail.Importance = widget.LowImportance
	if at.Error != "" && at.Error != result {
		tail.SetText(tail.Text + " · " + at.Error)
	}
	tail.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, container.NewHBox(icon, head, res), nil, tail)
}

func (d *detailScreen) doCopyCurl() {
	if d.call == nil {
		return
	}
	d.a.copyText(CurlCommand(d.call, d.a.b.Proxy.Addr()))
	d.status.SetText("Copied a curl command (keys as $VARIABLES)")
}

func (d *detailScreen) doCopyJSON() {
	if d.call == nil {
		return
	}
	if rj, ok := d.a.b.History.(RecordJSON); ok {
		id := d.call.ID
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b, err := rj.RecordJSON(ctx, id)
			runOnUI(func() {
				if err != nil {
					d.status.SetText("Copy JSON: " + err.Error())
					return
				}
				d.a.copyText(string(b))
				d.status.SetText("Copied the stored call as JSON (" + byteSize(len(b)) + ")")
			})
		}()
		return
	}
	b, err := CallJSON(d.call)
	if err != nil {
		d.status.SetText("Copy JSON: " + err.Error())
		return
	}
	d.a.copyText(string(b))
	d.status.SetText("Copied the call as JSON (" + byteSize(len(b)) + ")")
}

// doReplay sends the request again through the proxy and opens the new call.
func (d *detailScreen) doReplay() {
	if d.call == nil {
		return
	}
	c, gen := d.call, d.gen
	d.replay.Disable()
	d.status.SetText("Replaying " + c.Method + " " + c.Path + " through the proxy…")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 11*time.Minute)
		defer cancel()
		id, err := Replay(ctx, d.a.b.Proxy.Addr(), c)
		var nc *proxy.Call
		if err == nil {
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			nc, err = waitForCall(wctx, d.a.b.History, id)
			wcancel()
		}
		var sc *shownCall
		if err == nil {
			sc = d.prepare(nc)
		}
		runOnUI(func() {
			d.replay.Enable()
			if gen != d.gen {
				return
			}
			if err != nil {
				d.status.SetText(strings.TrimPrefix(err.Error(), "replay: "))
				return
			}
			d.gen++
			d.showing = nc.ID
			d.display(sc)
			d.status.SetText("Replayed: this is the new call")
		})
	}()
}
