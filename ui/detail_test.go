package ui

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// openAIUpstream is a real fasthttp server on 127.0.0.1 answering every chat
// completion in OpenAI's format; seen (may be nil) learns each request's path
// and body. It returns its address.
func openAIUpstream(t testing.TB, seen func(path, body string)) string {
	t.Helper()
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if seen != nil {
			seen(string(ctx.Path()), string(ctx.PostBody()))
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"The list reads the failed index first."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39}}`)
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go up.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { _ = up.Shutdown() })
	return ln.Addr().String()
}

// TestTimelineCircuitEventsAndUpstreamView runs calls through a real proxy
// into the real store: a route whose first target is dead opens its circuit,
// the fallback answers an Anthropic client from an OpenAI upstream. The
// timeline says so, a click on an attempt shows it as sent upstream, the
// conversation view reads the client's format, and Replay past the open
// circuit tries the dead provider again (issue 16 §2–3).
func TestTimelineCircuitEventsAndUpstreamView(t *testing.T) {
	cfg := deadProviderConfig(t, `
[[provider]]
name = "up"
format = "openai"
base_url = "http://`+openAIUpstream(t, nil)+`/v1"
no_key = true

[[route]]
model = "smart"
targets = ["down/m", "up/gpt-4o"]
`)
	e := newTestEnv(t)
	srv := startProxy(t, cfg, cli.Recorder{H: e.hist})
	e.b.Proxy = srv
	body := `{"model":"smart","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"Why is the list empty?"}]}`
	for range 2 {
		resp, err := http.Post("http://"+srv.Addr()+"/v1/messages", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("call through the route: %s", resp.Status)
		}
	}
	e.hist.Flush()

	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	h := a.history
	pump(t, "two calls", func() bool { return len(h.calls) == 2 })
	if got := h.formatBadge(&h.calls[0]); got != "anthropic→openai" {
		t.Errorf("format badge %q, want anthropic→openai", got)
	}
	if tries, _ := historyColumns[2].cell(h, &h.calls[0]); tries != "" {
		t.Errorf("Tries of a call whose first target was skipped: %q, want none (1 sent)", tries)
	}
	d := h.detail
	h.table.Select(widget.TableCellID{Row: 1}) // the first call: it opened the circuit
	pump(t, "first call", func() bool { return d.call != nil && d.call.ID == h.calls[1].ID })
	timeline := strings.Join(labels(d.attempts), " | ")
	for _, want := range []string{"#1  down/m", "connection refused", "⚡ circuit opened: down skipped until", "#2  up/gpt-4o", "POST http://"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline %q lacks %q", timeline, want)
		}
	}
	// A click on attempt #2 shows it as Gatehouse sent it: translated to OpenAI.
	var second *tappableBox
	for _, o := range d.attempts.Objects {
		if b, ok := o.(*tappableBox); ok && strings.Contains(strings.Join(labels(b.content), " "), "#2") {
			second = b
		}
	}
	if second == nil {
		t.Fatal("no attempt #2 in the timeline")
	}
	test.Tap(second)
	if d.tabs.Selected().Text != TabUpstream {
		t.Errorf("clicking attempt #2 shows tab %q", d.tabs.Selected().Text)
	}
	up := strings.Join(d.upstream.Text(), "\n")
	for _, want := range []string{"Gatehouse → upstream", "/v1/chat/completions", `"role": "system"`, `"model": "gpt-4o"`, "upstream → Gatehouse", "The list reads the failed index first."} {
		if !strings.Contains(up, want) {
			t.Errorf("upstream view lacks %q:\n%s", want, up)
		}
	}
	conv := strings.Join(labels(d.conv), " | ")
	for _, want := range []string{"system", "Be brief.", "user", "Why is the list empty?", "assistant (the answer)", "The list reads the failed index first."} {
		if !strings.Contains(conv, want) {
			t.Errorf("conversation %q lacks %q", conv, want)
		}
	}

	h.table.Select(widget.TableCellID{Row: 0}) // the second call: down was skipped
	pump(t, "second call", func() bool { return d.call != nil && d.call.ID == h.calls[0].ID })
	if timeline := strings.Join(labels(d.attempts), " | "); !strings.Contains(timeline, "not sent: the circuit was open until") {
		t.Errorf("timeline %q does not say down was skipped", timeline)
	}
	// Replay past the open circuit: down is tried (refused), not skipped.
	d.bypass.SetChecked(true)
	test.Tap(d.replay)
	pump(t, "replayed call", func() bool { return strings.HasPrefix(d.status.Text, "Replayed") })
	if a := d.call.Attempts[0]; a.Provider != "down" || a.Skipped() {
		t.Errorf("replay past the circuit: first attempt %+v, want down tried", a)
	}
	pump(t, "the replay's row selected", func() bool { return h.selected == d.call.ID && len(h.calls) == 3 && h.calls[0].ID == d.call.ID })
}

// A malformed body shows where its JSON broke, long lines wrap at the pane's
// width instead of running off its edge, and a search's text is highlighted
// (issue 16 §3).
func TestBodyViewerWrapsMarksAndHighlights(t *testing.T) {
	e := newTestEnv(t)
	c := at(sampleCalls(1, time.Now())[0], time.Now())
	long := strings.Repeat("lorem ipsum ", 40)
	c.Request.Body = []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + long + `"}],,"stream":false}`)
	e.add(c)
	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	h := a.history
	pump(t, "list", func() bool { return len(h.calls) == 1 })
	h.search.SetText("IPSUM")
	h.reload()
	pump(t, "search", func() bool { return !h.loading && len(h.calls) == 1 })
	h.table.Select(widget.TableCellID{Row: 0})
	d := h.detail
	pump(t, "detail", func() bool { return d.call != nil && d.body.Visible() })
	if d.tabs.Selected().Text != TabRequest {
		t.Errorf("a malformed request opens on %q, want Request", d.tabs.Selected().Text)
	}
	v := d.request
	if !strings.Contains(v.note.Text, "malformed JSON") || !strings.Contains(v.note.Text, "at byte") || v.mark.line < 0 {
		t.Fatalf("note %q, mark %+v: want the error's offset", v.note.Text, v.mark)
	}
	if got := v.lines[v.mark.line][v.mark.col]; got != ',' {
		t.Errorf("the mark is on %q, want the second comma", got)
	}
	if len(v.rows) <= len(v.lines) || v.cols < 20 {
		t.Errorf("%d rows for %d lines at %d columns: the long line did not wrap", len(v.rows), len(v.lines), v.cols)
	}
	for _, r := range v.rows {
		if n := utf8.RuneCountInString(v.lines[r.line][r.from:r.to]); n > v.cols {
			t.Fatalf("a row holds %d characters, more than the %d that fit", n, v.cols)
		}
	}
	row := newLineRow()
	for _, sp := range v.rows {
		if strings.Contains(strings.ToLower(v.lines[sp.line][sp.from:sp.to]), "ipsum") {
			v.fill(row, sp)
			break
		}
	}
	if len(row.spans) == 0 {
		t.Error("no search hit highlighted in a row holding the text")
	}
	// Wider, the same text needs fewer rows.
	before := len(v.rows)
	v.Resize(fyne.NewSize(v.Size().Width*2, v.Size().Height))
	if len(v.rows) >= before {
		t.Errorf("twice as wide: %d rows, was %d", len(v.rows), before)
	}
}

// The filters find the call (issue 16 §4): retried then answered, an error
// class, a status, a time range; Up and Down open the next call and the
// selected row follows.
func TestHistoryFiltersAndKeys(t *testing.T) {
	e := newTestEnv(t)
	now := time.Now()
	calls := sampleCalls(20, now) // i%7 == 3 failed (3 × 502): i = 3, 10, 17
	retried := calls[5]
	retried.Attempts = append([]proxy.Attempt{{Provider: "openai", Model: "gpt-4o", Status: 429, Class: proxy.ClassRateLimited}}, retried.Attempts...)
	at(calls[0], now.Add(-3*24*time.Hour))
	calls[7].Client, calls[8].Client = "ci-bot", "ci-bot" // calls with a client token (issue 13)
	for _, c := range calls {
		e.add(c)
	}
	a := newTestApp(t, e)
	a.ShowTab(TabHistory)
	h := a.history
	pump(t, "list", func() bool { return len(h.calls) == 20 })
	count := func(what string, set func()) int {
		t.Helper()
		set()
		pump(t, what, func() bool { return !h.loading })
		return len(h.calls)
	}
	if n := count("retried", func() { h.show.SetSelected(ShowRetried) }); n != 1 || h.calls[0].ID != retried.ID {
		t.Errorf("retried: %d calls", n)
	}
	if n := count("rate limited", func() { h.show.SetSelected(ShowAll); h.class.SetSelected(classWords(proxy.ClassRateLimited)) }); n != 1 {
		t.Errorf("class rate limited: %d calls, want 1", n)
	}
	if n := count("502", func() { h.class.SetSelected(anyChoice); h.status.SetText("502"); h.reload() }); n != 3 {
		t.Errorf("status 502: %d calls, want 3", n)
	}
	if n := count("last hour", func() { h.status.SetText(""); h.period.SetSelected(RangeHour) }); n != 19 {
		t.Errorf("last hour: %d calls, want 19 (one is 3 days old)", n)
	}
	if n := count("7 days", func() { h.period.SetSelected(RangeWeek) }); n != 20 {
		t.Errorf("7 days: %d calls, want 20", n)
	}
	if n := count("client", func() { h.client.SetText("ci-bot"); h.reload() }); n != 2 || h.calls[0].Client != "ci-bot" {
		t.Errorf("client ci-bot: %d calls, want its 2", n)
	}
	if n := count("local", func() { h.client.SetText("local"); h.reload() }); n != 18 {
		t.Errorf("client local: %d calls, want the 18 without a token", n)
	}
	h.client.SetText("")
	h.table.Select(widget.TableCellID{Row: 0})
	d := h.detail
	pump(t, "first", func() bool { return d.call != nil && d.call.ID == h.calls[0].ID })
	h.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	pump(t, "next", func() bool { return d.call != nil && d.call.ID == h.calls[1].ID })
	if h.selected != h.calls[1].ID {
		t.Errorf("Down: selected %s, want row 1 %s", h.selected, h.calls[1].ID)
	}
	h.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	pump(t, "previous", func() bool { return d.call != nil && d.call.ID == h.calls[0].ID })
	// A new search keeps the call the pane shows selected when it matches.
	shown := d.call.ID
	h.search.SetText("hello")
	h.reload()
	pump(t, "search", func() bool { return !h.loading && len(h.calls) > 0 })
	if h.selected != shown {
		t.Errorf("after a search the selected row is %q, want the call shown %s", h.selected, shown)
	}
}
