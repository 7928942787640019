package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// Clients is the client tokens, as the Clients screen manages them (issue 13).
type Clients interface {
	// List returns every client with today's usage.
	List() ([]cli.ClientStatus, error)
	// Add creates a client and returns its token: the only time it is shown.
	Add(spec cli.ClientSpec) (token string, err error)
	// Rotate gives a client a new token; the old one stops working.
	Rotate(name string) (token string, err error)
	// Remove revokes a client's token.
	Remove(name string) error
}

// ClientTokens is Clients on the data folder's clients file, put in force in
// the running proxy at once, with the proxy's usage counts.
type ClientTokens struct {
	Book  *cli.ClientBook
	Usage func() map[string]proxy.ClientUsage
}

var _ Clients = ClientTokens{}

func (c ClientTokens) List() ([]cli.ClientStatus, error) {
	list, err := c.Book.List()
	if err != nil {
		return nil, err
	}
	return cli.ClientStatuses(list, c.Usage()), nil
}

func (c ClientTokens) Add(s cli.ClientSpec) (string, error) { return c.Book.Add(s) }
func (c ClientTokens) Rotate(name string) (string, error)   { return c.Book.Rotate(name) }
func (c ClientTokens) Remove(name string) error             { return c.Book.Remove(name) }

// clientsScreen lists the client tokens with today's usage against their
// budgets, creates them (the token shown once, with Copy), rotates and
// revokes them.
type clientsScreen struct {
	a       *App
	content fyne.CanvasObject
	rows    *fyne.Container
	status  *widget.Label
	rowsOf  []cli.ClientStatus
}

func newClientsScreen(a *App) *clientsScreen {
	s := &clientsScreen{a: a, rows: container.NewVBox(), status: lowLabel("")}
	add := widget.NewButtonWithIcon("New client", theme.ContentAddIcon(), s.showAdd)
	add.Importance = widget.HighImportance
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), s.refresh)
	intro := widget.NewLabel("Give each tool its own token: it sends the token as its API key, Gatehouse adds the provider's key. " +
		"History shows which tool made each call; scopes and daily budgets limit what it may spend.")
	intro.Wrapping = fyne.TextWrapWord
	s.content = container.NewVScroll(container.NewVBox(
		widget.NewCard("Clients", "", container.NewVBox(intro, container.NewHBox(add, refresh), s.rows, s.status)),
		newSharingCard(a),
	))
	if a.b.Clients == nil {
		add.Disable()
		s.status.SetText("client tokens are not available in this window")
	}
	return s
}

// refresh reloads the list off the UI thread.
func (s *clientsScreen) refresh() {
	if s.a.b.Clients == nil {
		return
	}
	go func() {
		list, err := s.a.b.Clients.List()
		runOnUI(func() { s.show(list, err) })
	}()
}

// show draws the rows; on the UI thread.
func (s *clientsScreen) show(list []cli.ClientStatus, err error) {
	s.rowsOf = list
	s.rows.RemoveAll()
	if err != nil {
		s.status.Importance = widget.DangerImportance
		s.status.SetText(err.Error())
		return
	}
	s.status.Importance = widget.LowImportance
	if len(list) == 0 {
		s.status.SetText("No client tokens yet: tools without one are recorded as \"local\".")
		return
	}
	s.status.SetText("")
	for _, c := range list {
		s.rows.Add(s.row(c))
	}
	s.rows.Refresh()
}

func (s *clientsScreen) row(c cli.ClientStatus) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(c.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	scope := "models " + listOrAny(c.Models) + " · providers " + listOrAny(c.Providers)
	if !c.Expires.IsZero() {
		scope += " · expires " + c.Expires.Local().Format("2006-01-02")
	}
	usage := "today " + cli.TokensOfBudget(c.TokensToday, c.DailyTokens) + " tokens"
	if c.DailyUSD > 0 || c.USDToday > 0 {
		usage += ", " + cli.USDOfBudget(c.USDToday, c.DailyUSD)
	}
	last := "never used"
	if !c.LastUsed.IsZero() {
		last = "last used " + c.LastUsed.Local().Format("2006-01-02 15:04")
	}
	var bar fyne.CanvasObject = widget.NewLabel("")
	if c.DailyTokens > 0 {
		p := widget.NewProgressBar()
		p.TextFormatter = func() string { return "" }
		p.SetValue(min(1, float64(c.TokensToday)/float64(c.DailyTokens)))
		bar = p
	}
	name2 := c.Name
	rotate := widget.NewButtonWithIcon("New token", theme.ViewRefreshIcon(), func() { s.confirmRotate(name2) })
	revoke := widget.NewButtonWithIcon("Revoke", theme.DeleteIcon(), func() { s.confirmRevoke(name2) })
	revoke.Importance = widget.DangerImportance
	info := container.NewVBox(name, lowLabel(scope), widget.NewLabel(usage+" · "+last))
	return widget.NewCard("", "", container.NewBorder(nil, nil, nil, container.NewCenter(container.NewHBox(rotate, revoke)),
		container.NewBorder(nil, container.NewGridWrap(fyne.NewSize(320, 8), bar), nil, nil, info)))
}

func listOrAny(l []string) string {
	if len(l) == 0 {
		return "any"
	}
	return strings.Join(l, ", ")
}

// showAdd opens the new-client form.
func (s *clientsScreen) showAdd() {
	name := hintEntry("e.g. ci-bot, aider, laptop-anna")
	models := hintEntry("any; or globs: gpt-4o*, claude-*, prompt/*")
	providers := hintEntry("any; or names: openai, anthropic")
	tokens, usd, days := hintEntry("no limit"), hintEntry("no limit (priced with the price table)"), hintEntry("never")
	items := []*widget.FormItem{
		widget.NewFormItem("Name", name),
		widget.NewFormItem("Models", models),
		widget.NewFormItem("Providers", providers),
		widget.NewFormItem("Daily tokens", tokens),
		widget.NewFormItem("Daily USD", usd),
		widget.NewFormItem("Expires in days", days),
	}
	dialog.ShowForm("New client token", "Create", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		spec, err := clientSpecOf(name.Text, models.Text, providers.Text, tokens.Text, usd.Text, days.Text)
		if err != nil {
			dialog.ShowError(err, s.a.Window())
			return
		}
		s.create(spec)
	}, s.a.Window())
}

// clientSpecOf reads the new-client form.
func clientSpecOf(name, models, providers, tokens, usd, days string) (cli.ClientSpec, error) {
	spec := cli.ClientSpec{Name: strings.TrimSpace(name), Models: cli.SplitList(models), Providers: cli.SplitList(providers)}
	var err error
	if t := strings.TrimSpace(tokens); t != "" {
		if spec.DailyTokens, err = strconv.ParseInt(t, 10, 64); err != nil || spec.DailyTokens < 0 {
			return spec, fmt.Errorf("daily tokens: %q is not a whole number", t)
		}
	}
	if u := strings.TrimPrefix(strings.TrimSpace(usd), "$"); u != "" {
		if spec.DailyUSD, err = strconv.ParseFloat(u, 64); err != nil || spec.DailyUSD < 0 {
			return spec, fmt.Errorf("daily USD: %q is not an amount", u)
		}
	}
	if d := strings.TrimSpace(days); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return spec, fmt.Errorf("expires: %q is not a number of days", d)
		}
		spec.Expires = time.Duration(n) * 24 * time.Hour
	}
	return spec, spec.Check()
}

func (s *clientsScreen) create(spec cli.ClientSpec) {
	go func() {
		tok, err := s.a.b.Clients.Add(spec)
		runOnUI(func() {
			if err != nil {
				dialog.ShowError(err, s.a.Window())
				return
			}
			s.showToken(spec.Name, tok)
			s.refresh()
		})
	}()
}

// showToken shows a new token once, with Copy.
func (s *clientsScreen) showToken(name, tok string) {
	t := monoLabel(tok)
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { s.a.copyText(tok) })
	copyBtn.Importance = widget.HighImportance
	note := widget.NewLabel("This is the only time the token is shown: Gatehouse keeps only its hash. " +
		"Set it as the tool's API key (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY).")
	note.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Token for "+name, "Done", container.NewVBox(note, container.NewBorder(nil, nil, nil, copyBtn, t)), s.a.Window())
	d.Resize(fyne.NewSize(640, 220))
	d.Show()
}

func (s *clientsScreen) confirmRotate(name string) {
	var tok string
	s.a.confirmThen("New token for "+name+"?", "The current token of "+name+" stops working at once.",
		func() (err error) { tok, err = s.a.b.Clients.Rotate(name); return err },
		func(err error) {
			if err != nil {
				dialog.ShowError(err, s.a.Window())
				return
			}
			s.showToken(name, tok)
			s.refresh()
		})
}

func (s *clientsScreen) confirmRevoke(name string) {
	s.a.confirmThen("Revoke "+name+"?", "Calls with the token of "+name+" are refused from now on. Its history stays.",
		func() error { return s.a.b.Clients.Remove(name) },
		func(err error) {
			if err != nil {
				dialog.ShowError(err, s.a.Window())
			}
			s.refresh()
		})
}

// confirmThen asks title/msg; on yes it runs work off the UI thread, then
// done with its error on the UI thread.
func (a *App) confirmThen(title, msg string, work func() error, done func(error)) {
	dialog.ShowConfirm(title, msg, func(ok bool) {
		if !ok {
			return
		}
		go func() {
			err := work()
			runOnUI(func() { done(err) })
		}()
	}, a.Window())
}

// hintEntry is an entry with a placeholder.
func hintEntry(hint string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(hint)
	return e
}
