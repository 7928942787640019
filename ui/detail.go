package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/store"
)

// detailScreen shows one call: summary, diagnosis, the attempts timeline, the
// conversation, the request and response, each attempt as it went over the
// wire, and the actions.
type detailScreen struct {
	a       *App
	content fyne.CanvasObject

	placeholder *widget.Label
	body        fyne.CanvasObject
	title       *widget.Label
	outcome     *widget.Label
	summary     *fyne.Container
	diagnosis   *widget.Label
	diagCard    *widget.Card
	attempts    *fyne.Container
	tabs        *container.AppTabs
	conv        *fyne.Container // holds the conversation view
	request     *linesView
	response    *linesView
	events      *linesView
	upstream    *linesView
	upTab       *container.TabItem
	status      *widget.Label // result of the last action
	bypass      *widget.Check // Replay past an open circuit

	copyCurl, copyJSON, replay, popOut *widget.Button
	checkNow                           *widget.Button // failed calls only (doctor.go)

	// onShown, when set, learns the id of each call the pane shows (History
	// selects its row).
	onShown func(id string)
	search  string // text History searched for: highlighted in the bodies
	wantTab string // the tab to show with the next call displayed ("": the default)

	shown   *shownCall
	call    *store.Call // the call shown, in full
	showing string      // ID of the call shown or being loaded
	gen     int
}

// Tab names of the detail pane.
const (
	TabConversation = "Conversation"
	TabRequest      = "Request"
	TabResponse     = "Response"
	TabEvents       = "Events"
	TabUpstream     = "⇄ Upstream" // each attempt as Gatehouse sent it and the upstream answered
)

func newDetailScreen(a *App) *detailScreen {
	d := &detailScreen{a: a}
	// Plain, not italic: an italic face would be one more font (two with its
	// system fallback) parsed and held for the life of the app.
	d.placeholder = widget.NewLabelWithStyle("Select a call to see what happened.", fyne.TextAlignCenter, fyne.TextStyle{})
	d.placeholder.Importance = widget.LowImportance
	d.placeholder.Wrapping = fyne.TextWrapWord
	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.Truncation = fyne.TextTruncateEllipsis
	d.outcome = widget.NewLabel("")
	d.outcome.Wrapping = fyne.TextWrapWord
	d.summary = container.New(layout.NewCustomPaddedVBoxLayout(0))
	d.diagnosis = widget.NewLabel("")
	d.diagnosis.Wrapping = fyne.TextWrapWord
	d.diagCard = widget.NewCard("", "", container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, d.diagnosis))
	d.attempts = container.New(layout.NewCustomPaddedVBoxLayout(0))
	d.conv = container.NewStack()
	d.request, d.response, d.events, d.upstream = newLinesView(), newLinesView(), newLinesView(), newLinesView()
	d.upTab = container.NewTabItem(TabUpstream, d.upstream)
	d.tabs = container.NewAppTabs(
		container.NewTabItem(TabConversation, d.conv),
		container.NewTabItem(TabRequest, d.request),
		container.NewTabItem(TabResponse, d.response),
		container.NewTabItem(TabEvents, d.events),
		d.upTab,
	)
	d.status = widget.NewLabel("")
	d.status.Importance = widget.LowImportance
	d.status.Truncation = fyne.TextTruncateEllipsis
	d.status.Hide()
	d.copyCurl = widget.NewButtonWithIcon("Copy as curl", theme.ContentCopyIcon(), d.doCopyCurl)
	d.copyJSON = widget.NewButtonWithIcon("Copy JSON", theme.ContentCopyIcon(), d.doCopyJSON)
	d.replay = widget.NewButtonWithIcon("Replay", theme.MediaReplayIcon(), d.doReplay)
	d.bypass = widget.NewCheck("bypass circuit", nil) // Replay tries a provider whose circuit is open
	d.popOut = widget.NewButtonWithIcon("", theme.ViewFullScreenIcon(), d.doPopOut) // the body in a window of its own
	d.checkNow = a.newCheckNowButton(func() string { return doctorTarget(d.call) })
	actions := container.NewHBox(d.copyCurl, d.copyJSON, d.replay, d.bypass, d.checkNow)

	// What happened first: the outcome, the diagnosis, the timeline; the
	// call's particulars after them.
	top := container.NewVBox(
		d.outcome,
		d.diagCard,
		widget.NewLabelWithStyle("Timeline (click an attempt for its request and response)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.attempts,
		d.summary,
	)
	// The split lets the body pane grow over the summary (issue 16 §3).
	split := container.NewVSplit(container.NewVScroll(top), d.tabs)
	split.Offset = 0.6
	d.body = container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, nil, d.popOut, d.title), actions, d.status), nil, nil, nil, split)
	d.body.Hide()
	d.content = container.NewStack(container.NewCenter(d.placeholder), d.body)
	return d
}

// shownCall is what the detail pane shows once a call is prepared off the UI thread.
type shownCall struct {
	c                 *store.Call
	diagnosis         string
	req, resp, events shownText
	conv              []convBlock
	wire              []shownText // per attempt: as it went over the wire
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
func (d *detailScreen) prepare(c *store.Call) *shownCall {
	sc := &shownCall{c: c}
	sc.diagnosis = Diagnose(c, d.keySource)
	req, resp := c.Request, c.Response
	sc.req = withHeaders(c.Method+" "+c.Path+"  (headers as the client sent them, secrets redacted)", req, c.BodiesDropped)
	sc.resp = withHeaders(fmt.Sprintf("%d  (what the client got)", c.Status), resp, c.BodiesDropped)
	if c.Events != "" {
		sc.events = bodyText([]byte(c.Events), c.EventsTruncated)
	} else {
		sc.events = plainText("(not a stream)")
	}
	sc.conv = conversationBlocks(c.InboundFormat, []byte(bodyOf(req)), []byte(bodyOf(resp)), []byte(c.Events))
	for i := range c.Attempts {
		sc.wire = append(sc.wire, wireText(i, &c.Attempts[i]))
	}
	return sc
}

func plainText(lines ...string) shownText { return shownText{lines: lines, mark: position{-1, 0}} }

// withHeaders is one side of the call as an HTTP message: a first line, the
// headers, a blank line and the body (its JSON error mark moved along).
func withHeaders(first string, m *store.Message, dropped bool) shownText {
	if m == nil {
		if dropped {
			return plainText(first, "", "(not stored: the history writer was overloaded)")
		}
		return plainText(first, "", "(nothing stored)")
	}
	head := []string{first}
	for _, h := range m.Headers {
		head = append(head, h.Name+": "+h.Value)
	}
	head = append(head, "")
	t := bodyText([]byte(m.Body), m.Truncated)
	if t.mark.line >= 0 {
		t.mark.line += len(head)
	}
	t.lines = append(head, t.lines...)
	return t
}

// wireText is attempt i as Gatehouse sent it upstream and as the upstream
// answered (issue 16 §1–2).
func wireText(i int, a *store.Attempt) shownText {
	var lines []string
	add := func(s ...string) { lines = append(lines, s...) }
	add(fmt.Sprintf("Attempt #%d · %s", i+1, target(a)))
	if a.Skipped() {
		add("", "Not sent: the provider's circuit was open"+untilText(a.CircuitUntil)+".")
		return plainText(lines...)
	}
	if a.Wire == nil || a.Wire.Request == nil && a.Wire.Response == nil {
		add("", "No wire record stored for this attempt (recorded by an older Gatehouse, or nothing was sent).")
		if a.URL != "" {
			add("", orDash(a.Method)+" "+a.URL)
		}
		return plainText(lines...)
	}
	key := a.KeySource
	if a.KeyMask != "" {
		key += " " + a.KeyMask
	}
	add("", "── Gatehouse → upstream ── key: "+orDash(key))
	add(orDash(a.Method) + " " + a.URL)
	lines = appendWireMessage(lines, a.Wire.Request, a.Wire.RequestSameAsClient, "the client's request body")
	add("", fmt.Sprintf("── upstream → Gatehouse ── %s · %s", attemptResult(a), attemptTimes(a)))
	lines = appendWireMessage(lines, a.Wire.Response, a.Wire.ResponseSameAsClient, "the body the client got")
	return plainText(lines...)
}

func appendWireMessage(lines []string, m *store.Message, same bool, sameWhat string) []string {
	if m == nil {
		return append(lines, "(nothing)")
	}
	for _, h := range m.Headers {
		lines = append(lines, h.Name+": "+h.Value)
	}
	lines = append(lines, "")
	if same {
		lines = append(lines, "(body identical to "+sameWhat+")")
	}
	body, _ := bodyLines([]byte(m.Body), m.Truncated)
	return append(lines, body...)
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
	d.shown, d.call, d.showing = sc, c, c.ID
	d.title.SetText(fmt.Sprintf("%s  %s %s", statusText(c), c.Method, c.Path))
	d.title.Importance = statusImportance(c)
	d.title.Refresh()
	d.say("")
	if Failed(c) && c.Provider != "" {
		d.checkNow.Show()
	} else {
		d.checkNow.Hide()
	}

	// Three short lines, so that the timeline shows at the default size.
	d.summary.RemoveAll()
	outcome := c.Outcome
	if c.Error != "" {
		outcome += ": " + c.Error
	}
	line := func(text string, imp widget.Importance) {
		l := widget.NewLabel(text)
		l.Wrapping, l.Importance = fyne.TextWrapWord, imp
		d.summary.Add(l)
	}
	d.outcome.Text, d.outcome.Importance = outcome, statusImportance(c)
	d.outcome.Refresh()
	ttfb := ""
	if c.TTFBMS > 0 {
		ttfb = " (first byte " + shortDuration(ms(c.TTFBMS)) + ")"
	}
	line(fmt.Sprintf("%s · %s%s · %s%s · %s in / %s out tokens · cost %s", c.Time.Local().Format("Jan 2 15:04:05.000"), modelRoute(c), streamWord(c.Stream),
		shortDuration(ms(c.DurationMS)), ttfb, tokens(tokenCount(c.InputTokens)), tokens(tokenCount(c.OutputTokens)), callCost(c)), widget.MediumImportance)
	line(fmt.Sprintf("client %s · %s · %s format · %s", orDash(c.ClientName()), orDash(c.ClientUA), orDash(c.InboundFormat), c.ID), widget.LowImportance)

	if sc.diagnosis == "" {
		d.diagCard.Hide()
	} else {
		d.diagnosis.SetText(sc.diagnosis)
		d.diagCard.Show()
	}

	d.attempts.RemoveAll()
	for i := range c.Attempts {
		// An upstream message repeated from the attempt before is said once.
		repeat := i > 0 && c.Attempts[i].Error == c.Attempts[i-1].Error
		for _, o := range timelineRows(i, &c.Attempts[i], repeat, func() { d.showAttempt(i) }) {
			d.attempts.Add(o)
		}
	}
	if len(c.Attempts) == 0 {
		d.attempts.Add(lowLabel("no upstream attempt: Gatehouse answered itself (see Outcome)"))
	}

	d.conv.Objects = []fyne.CanvasObject{conversationView(sc.conv)}
	d.conv.Refresh()
	d.request.setMarked(sc.req.lines, sc.req.note, sc.req.mark)
	d.response.setMarked(sc.resp.lines, sc.resp.note, sc.resp.mark)
	d.events.set(sc.events.lines, sc.events.note)
	d.highlight(d.search)
	d.showAttempt(lastSent(c))
	d.placeholder.Hide()
	switch {
	case sc.req.mark.line >= 0:
		d.tabs.Select(d.tabs.Items[1])
	case Failed(c):
		d.tabs.Select(d.tabs.Items[2])
	default:
		d.tabs.Select(d.tabs.Items[0])
	}
	d.selectWanted()
	d.body.Show()
	if d.onShown != nil {
		d.onShown(c.ID)
	}
}

// selectWanted shows the tab Reveal asked for, once.
func (d *detailScreen) selectWanted() {
	for _, t := range d.tabs.Items {
		if t.Text == d.wantTab {
			d.tabs.Select(t)
		}
	}
	d.wantTab = ""
}

// lastSent is the index of the last attempt that went upstream (-1: none).
func lastSent(c *store.Call) int {
	for i := len(c.Attempts) - 1; i >= 0; i-- {
		if !c.Attempts[i].Skipped() {
			return i
		}
	}
	return len(c.Attempts) - 1
}

// showAttempt puts attempt i in the upstream tab; a click in the timeline also
// switches to it.
func (d *detailScreen) showAttempt(i int) {
	if d.shown == nil || i < 0 || i >= len(d.shown.wire) {
		d.upstream.set([]string{"no upstream attempt"}, "")
		return
	}
	w := d.shown.wire[i]
	d.upstream.set(w.lines, w.note)
	d.upstream.highlight(d.search)
	if d.body.Visible() {
		d.tabs.Select(d.upTab)
	}
}

// highlight marks text (History's search) in every body; "" clears.
func (d *detailScreen) highlight(text string) {
	d.search = text
	for _, v := range []*linesView{d.request, d.response, d.events, d.upstream} {
		v.highlight(text)
	}
}

// say shows the result of the last action under the buttons ("" hides it).
func (d *detailScreen) say(text string) {
	d.status.SetText(text)
	d.status.Hidden = text == ""
	d.status.Refresh()
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

func (d *detailScreen) doCopyCurl() {
	if d.call == nil {
		return
	}
	d.a.copyText(CurlCommand(d.call, d.a.b.Proxy.Addr()))
	d.say("Copied a curl command (keys as $VARIABLES)")
}

// doCopyJSON copies the stored call as `gatehouse history show --json` prints it.
func (d *detailScreen) doCopyJSON() {
	if d.call == nil {
		return
	}
	b, err := json.MarshalIndent(d.call, "", "  ")
	if err != nil {
		d.say("Copy JSON: " + err.Error())
		return
	}
	d.a.copyText(string(b) + "\n")
	d.say("Copied the stored call as JSON (" + byteSize(len(b)+1) + ")")
}

// doPopOut opens the current tab's content in a window of its own.
func (d *detailScreen) doPopOut() {
	sc, cur := d.shown, d.tabs.Selected()
	if sc == nil || cur == nil {
		return
	}
	var content fyne.CanvasObject
	if cur.Text == TabConversation {
		content = conversationView(sc.conv)
	} else {
		src := cur.Content.(*linesView)
		v := newLinesView()
		v.setMarked(src.lines, src.note.Text, src.mark)
		v.highlight(d.search)
		content = v
	}
	w := d.a.fy.NewWindow(cur.Text + " · " + sc.c.ID)
	w.SetContent(content)
	w.Resize(fyne.NewSize(980, 760))
	w.Show()
}

// doReplay sends the request again through the proxy and opens the new call.
func (d *detailScreen) doReplay() {
	if d.call == nil {
		return
	}
	c, gen, bypass := d.call, d.gen, d.bypass.Checked
	d.replay.Disable()
	d.say("Replaying " + c.Method + " " + c.Path + " through the proxy…")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 11*time.Minute)
		defer cancel()
		id, err := Replay(ctx, d.a.b.Proxy.Addr(), c, bypass)
		var nc *store.Call
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
				d.say(strings.TrimPrefix(err.Error(), "replay: "))
				return
			}
			d.gen++
			d.display(sc)
			d.say("Replayed: this is the new call")
		})
	}()
}
