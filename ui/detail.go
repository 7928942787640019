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
	summary     *fyne.Container
	diagnosis   *widget.Label
	diagCard    *widget.Card
	attempts    *fyne.Container
	tabs        *container.AppTabs
	conv        *fyne.Container // holds the conversation view
	request     *linesView
	response    *linesView
	events      *linesView
	headers     *linesView
	upstream    *linesView
	upTab       *container.TabItem
	status      *widget.Label // result of the last action
	bypass      *widget.Check // Replay past an open circuit

	copyCurl, copyJSON, replay, popOut *widget.Button

	// onShown, when set, learns the id of each call the pane shows (History
	// selects its row).
	onShown func(id string)
	search  string // text History searched for: highlighted in the bodies

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
	TabHeaders      = "Headers"
	TabUpstream     = "Gatehouse ⇄ upstream"
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
	d.summary = container.New(layout.NewFormLayout())
	d.diagnosis = widget.NewLabel("")
	d.diagnosis.Wrapping = fyne.TextWrapWord
	d.diagCard = widget.NewCard("", "", container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, d.diagnosis))
	d.attempts = container.NewVBox()
	d.conv = container.NewStack()
	d.request, d.response, d.events, d.headers, d.upstream = newLinesView(), newLinesView(), newLinesView(), newLinesView(), newLinesView()
	d.upTab = container.NewTabItem(TabUpstream, d.upstream)
	d.tabs = container.NewAppTabs(
		container.NewTabItem(TabConversation, d.conv),
		container.NewTabItem(TabRequest, d.request),
		container.NewTabItem(TabResponse, d.response),
		container.NewTabItem(TabEvents, d.events),
		container.NewTabItem(TabHeaders, d.headers),
		d.upTab,
	)
	d.status = widget.NewLabel("")
	d.status.Importance = widget.LowImportance
	d.status.Truncation = fyne.TextTruncateEllipsis
	d.copyCurl = widget.NewButtonWithIcon("Copy as curl", theme.ContentCopyIcon(), d.doCopyCurl)
	d.copyJSON = widget.NewButtonWithIcon("Copy JSON", theme.ContentCopyIcon(), d.doCopyJSON)
	d.replay = widget.NewButtonWithIcon("Replay", theme.MediaReplayIcon(), d.doReplay)
	d.bypass = widget.NewCheck("past an open circuit", nil)
	d.popOut = widget.NewButtonWithIcon("", theme.ViewFullScreenIcon(), d.doPopOut) // the body in a window of its own
	actions := container.NewHBox(d.copyCurl, d.copyJSON, d.replay, d.bypass, layout.NewSpacer(), d.popOut)

	top := container.NewVBox(
		d.summary,
		d.diagCard,
		widget.NewLabelWithStyle("Timeline (click an attempt for its request and response)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.attempts,
	)
	// The split lets the body pane grow over the summary (issue 16 §3).
	split := container.NewVSplit(container.NewVScroll(top), d.tabs)
	split.Offset = 0.45
	d.body = container.NewBorder(container.NewVBox(d.title, actions, d.status), nil, nil, nil, split)
	d.body.Hide()
	d.content = container.NewStack(container.NewCenter(d.placeholder), d.body)
	return d
}

// shownCall is what the detail pane shows once a call is prepared off the UI thread.
type shownCall struct {
	c                         *store.Call
	diagnosis                 string
	req, resp, events, header shownText
	conv                      []convBlock
	wire                      []shownText // per attempt: as it went over the wire
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
	sc.req = bodyText([]byte(bodyOf(req)), req != nil && req.Truncated)
	sc.resp = bodyText([]byte(bodyOf(resp)), resp != nil && resp.Truncated)
	if c.Events != "" {
		sc.events = bodyText([]byte(c.Events), c.EventsTruncated)
	} else {
		sc.events = plainText("(not a stream)")
	}
	sc.conv = conversationBlocks(c.InboundFormat, []byte(bodyOf(req)), []byte(bodyOf(resp)), []byte(c.Events))
	var h []string
	h = append(h, "Request headers (secrets redacted)")
	h = appendHeaders(h, req)
	h = append(h, "", "Response headers")
	h = appendHeaders(h, resp)
	sc.header = plainText(h...)
	for i := range c.Attempts {
		sc.wire = append(sc.wire, wireText(i, &c.Attempts[i]))
	}
	return sc
}

func plainText(lines ...string) shownText { return shownText{lines: lines, mark: position{-1, 0}} }

func appendHeaders(lines []string, m *store.Message) []string {
	if m == nil {
		return append(lines, "  (none stored)")
	}
	for _, h := range m.Headers {
		lines = append(lines, "  "+h.Name+": "+h.Value)
	}
	return lines
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
	d.status.SetText("")

	d.summary.RemoveAll()
	row := func(k, v string) {
		d.summary.Add(widget.NewLabelWithStyle(k, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		l := widget.NewLabel(v)
		l.Wrapping = fyne.TextWrapWord
		d.summary.Add(l)
	}
	outcome := c.Outcome
	if c.Error != "" {
		outcome += ": " + c.Error
	}
	row("Outcome", outcome)
	row("When", c.Time.Local().Format("Mon Jan 2 15:04:05.000")+" · "+c.ID)
	row("Model", modelRoute(c)+streamWord(c.Stream))
	ttfb := "–"
	if c.TTFBMS > 0 {
		ttfb = shortDuration(ms(c.TTFBMS))
	}
	row("Duration", shortDuration(ms(c.DurationMS))+" · first byte after "+ttfb)
	row("Tokens", tokens(tokenCount(c.InputTokens))+" in · "+tokens(tokenCount(c.OutputTokens))+" out")
	row("Client", fmt.Sprintf("%s (%s format)", orDash(c.ClientUA), orDash(c.InboundFormat)))

	if sc.diagnosis == "" {
		d.diagCard.Hide()
	} else {
		d.diagnosis.SetText(sc.diagnosis)
		d.diagCard.Show()
	}

	d.attempts.RemoveAll()
	for i := range c.Attempts {
		for _, o := range timelineRows(i, &c.Attempts[i], func() { d.showAttempt(i) }) {
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
	d.headers.set(sc.header.lines, "")
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
	d.body.Show()
	if d.onShown != nil {
		d.onShown(c.ID)
	}
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
	for _, v := range []*linesView{d.request, d.response, d.events, d.headers, d.upstream} {
		v.highlight(text)
	}
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
	d.status.SetText("Copied a curl command (keys as $VARIABLES)")
}

// doCopyJSON copies the stored call as `gatehouse history show --json` prints it.
func (d *detailScreen) doCopyJSON() {
	if d.call == nil {
		return
	}
	b, err := json.MarshalIndent(d.call, "", "  ")
	if err != nil {
		d.status.SetText("Copy JSON: " + err.Error())
		return
	}
	d.a.copyText(string(b) + "\n")
	d.status.SetText("Copied the stored call as JSON (" + byteSize(len(b)+1) + ")")
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
	d.status.SetText("Replaying " + c.Method + " " + c.Path + " through the proxy…")
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
				d.status.SetText(strings.TrimPrefix(err.Error(), "replay: "))
				return
			}
			d.gen++
			d.display(sc)
			d.status.SetText("Replayed: this is the new call")
		})
	}()
}
