package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// settingsScreen edits the proxy's settings in the config file the headless
// mode reads too. It edits a copy of the config in force; Save writes only the
// settings that differ from it (config.SetChanged).
type settingsScreen struct {
	a       *App
	content fyne.CanvasObject

	listen, attempts, baseDelay, maxDelay *widget.Entry
	onStatus, firstByte, idle             *widget.Entry
	circuitFailures, circuitCooldown      *widget.Entry
	maxAge, maxSize, bodyCap, origins     *widget.Entry
	proxyURL, caFile, routes              *widget.Entry
	startAtLogin, notifications           *widget.Check
	save                                  *widget.Button
	result                                *widget.Label
}

func newSettingsScreen(a *App) *settingsScreen {
	s := &settingsScreen{a: a}
	e := func(hint string) *widget.Entry {
		w := widget.NewEntry()
		w.SetPlaceHolder(hint)
		return w
	}
	s.listen, s.attempts = e("127.0.0.1:8765"), e("3")
	s.baseDelay, s.maxDelay = e("250ms"), e("8s")
	s.onStatus = e("408, 429, 500, 502, 503, 504, 529")
	s.firstByte, s.idle = e("1m"), e("2m")
	s.circuitFailures, s.circuitCooldown = e("5"), e("30s")
	s.maxAge, s.maxSize, s.bodyCap = e("30 days"), e("512"), e("1048576")
	s.origins = e("http://localhost:3000, …")
	s.proxyURL = e("env (HTTPS_PROXY, NO_PROXY) · none · http://user:pass@proxy:3128")
	s.caFile = e("optional: PEM file, e.g. your company's root certificate")
	s.routes = widget.NewMultiLineEntry()
	s.routes.SetPlaceHolder("smart = openai/gpt-4o, anthropic/claude-sonnet-4-5")
	s.routes.SetMinRowsVisible(3)
	s.startAtLogin = widget.NewCheck("Start Gatehouse when I log in", nil)
	s.notifications = widget.NewCheck("Notify me when a provider starts failing or recovers", nil)
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.doSave)
	s.save.Importance = widget.HighImportance
	revert := widget.NewButtonWithIcon("Revert", theme.ViewRefreshIcon(), s.load)

	hint := func(text string) *widget.FormItem {
		return &widget.FormItem{Text: "", Widget: lowLabel(text)}
	}
	form := widget.NewForm(
		widget.NewFormItem("Listen address", s.listen), hint("loopback only; a change applies at the next start"),
		widget.NewFormItem("Attempts per target", s.attempts),
		widget.NewFormItem("Backoff base / max", container.NewGridWithColumns(2, s.baseDelay, s.maxDelay)),
		widget.NewFormItem("Retry on status", s.onStatus),
		widget.NewFormItem("First byte timeout", s.firstByte),
		widget.NewFormItem("Idle timeout", s.idle), hint("silence allowed inside a response; no total limit; 0s turns a timeout off"),
		widget.NewFormItem("Circuit: failures / cooldown", container.NewGridWithColumns(2, s.circuitFailures, s.circuitCooldown)),
		hint("that many failures in a row skip a provider for the cooldown; 0 failures turns the breaker off"),
		widget.NewFormItem("Routes", s.routes), hint("one alias per line: alias = provider/model, fallback/model, …"),
		widget.NewFormItem("Keep history for", s.maxAge),
		widget.NewFormItem("History size cap (MB)", s.maxSize),
		widget.NewFormItem("Body capture cap (bytes)", s.bodyCap),
		widget.NewFormItem("Allowed browser origins", s.origins),
		widget.NewFormItem("Proxy for providers", s.proxyURL), hint("empty or env: HTTPS_PROXY/HTTP_PROXY/NO_PROXY; none: direct; a provider may override it"),
		widget.NewFormItem("Extra CA file", s.caFile), hint("trusted on top of the system's roots (a TLS-inspecting proxy's root)"),
		widget.NewFormItem("", s.startAtLogin),
		widget.NewFormItem("", s.notifications),
	)
	path := ""
	if a.b.Settings != nil {
		path = a.b.Settings.Current().Path
	}
	s.content = container.NewVScroll(container.NewVBox(
		widget.NewCard("Settings", "Saved to "+path+", which gatehouse serve reads too; only what you change is written", form),
		container.NewHBox(s.save, revert),
		s.result,
		newSharingCard(a), // issue 13
		lowLabel("Gatehouse "+a.b.Version),
	))
	s.load()
	return s
}

func lowLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Importance = widget.LowImportance
	return l
}

// load fills the form from the configuration in force.
func (s *settingsScreen) load() {
	if s.a.b.Settings == nil {
		return
	}
	c := s.a.b.Settings.Current()
	s.listen.SetText(c.Listen)
	s.attempts.SetText(strconv.Itoa(c.Retry.Attempts))
	s.baseDelay.SetText(humanDuration(c.Retry.BaseDelay.Duration))
	s.maxDelay.SetText(humanDuration(c.Retry.MaxDelay.Duration))
	s.onStatus.SetText(joinInts(c.Retry.OnStatus))
	s.firstByte.SetText(humanDuration(c.Retry.FirstByteTimeout.Duration))
	s.idle.SetText(humanDuration(c.Retry.IdleTimeout.Duration))
	s.circuitFailures.SetText(strconv.Itoa(c.Retry.CircuitFailures))
	s.circuitCooldown.SetText(humanDuration(c.Retry.CircuitCooldown.Duration))
	s.routes.SetText(routesText(c.Routes))
	s.maxAge.SetText(humanDuration(c.History.MaxAge.Duration))
	s.maxSize.SetText(strconv.FormatInt(c.History.MaxSizeMB, 10))
	s.bodyCap.SetText(strconv.Itoa(c.History.BodyCapBytes))
	s.origins.SetText(strings.Join(c.AllowOrigins, ", "))
	s.proxyURL.SetText(c.ProxyURL)
	s.caFile.SetText(c.CAFile)
	s.startAtLogin.SetChecked(c.App.StartAtLogin)
	s.notifications.SetChecked(c.App.NotificationsEnabled())
	s.result.SetText("")
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// routesText writes routes one per line: "smart = openai/gpt-4o, anthropic/x".
func routesText(routes []config.Route) string {
	lines := make([]string, len(routes))
	for i, r := range routes {
		lines[i] = r.Model + " = " + strings.Join(r.Targets, ", ")
	}
	return strings.Join(lines, "\n")
}

// parseRoutes reads what routesText writes.
func parseRoutes(text string) ([]config.Route, error) {
	var out []config.Route
	for i, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		alias, targets, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(alias) == "" {
			return nil, fmt.Errorf("routes line %d: %q is not alias = provider/model, …", i+1, line)
		}
		r := config.Route{Model: strings.TrimSpace(alias)}
		for _, t := range strings.Split(targets, ",") {
			if t = strings.TrimSpace(t); t != "" {
				r.Targets = append(r.Targets, t)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// values reads and checks the form into a copy of the config in force.
func (s *settingsScreen) values() (*config.Config, error) {
	cur := s.a.b.Settings.Current()
	c := *cur
	var errs []error
	dur := func(name, text string, zeroOK bool) config.Duration {
		d, err := parseHumanDuration(text)
		if err != nil || d < 0 || d == 0 && !zeroOK {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration like 250ms, 8s, 1m or 30 days", name, text))
		}
		return config.Duration{Duration: d}
	}
	num := func(name, text string, zeroOK bool) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil || n < 0 || n == 0 && !zeroOK {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive whole number", name, text))
		}
		return n
	}
	c.Listen = strings.TrimSpace(s.listen.Text)
	c.Retry.Attempts = int(num("attempts", s.attempts.Text, false))
	c.Retry.BaseDelay = dur("backoff base", s.baseDelay.Text, false)
	c.Retry.MaxDelay = dur("backoff max", s.maxDelay.Text, false)
	c.Retry.OnStatus = nil
	for _, f := range strings.FieldsFunc(s.onStatus.Text, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 100 || n > 599 {
			errs = append(errs, fmt.Errorf("retry on status: %q is not an HTTP status", f))
		}
		c.Retry.OnStatus = append(c.Retry.OnStatus, n)
	}
	c.Retry.FirstByteTimeout = dur("first byte timeout", s.firstByte.Text, true)
	c.Retry.IdleTimeout = dur("idle timeout", s.idle.Text, true)
	c.Retry.CircuitFailures = int(num("circuit failures", s.circuitFailures.Text, true))
	c.Retry.CircuitCooldown = dur("circuit cooldown", s.circuitCooldown.Text, false)
	routes, err := parseRoutes(s.routes.Text)
	errs = append(errs, err)
	c.Routes = routes
	c.History.MaxAge = dur("history age", s.maxAge.Text, false)
	c.History.MaxSizeMB = num("history size", s.maxSize.Text, false)
	c.History.BodyCapBytes = int(num("body cap", s.bodyCap.Text, false))
	c.AllowOrigins = nil
	for _, o := range strings.Split(s.origins.Text, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowOrigins = append(c.AllowOrigins, o)
		}
	}
	if len(c.AllowOrigins) == 0 && len(cur.AllowOrigins) == 0 {
		c.AllowOrigins = cur.AllowOrigins // nil and empty are the same setting
	}
	c.ProxyURL = strings.TrimSpace(s.proxyURL.Text)
	if err := config.ValidProxyURL(c.ProxyURL); err != nil {
		errs = append(errs, fmt.Errorf("proxy: %w", err))
	}
	c.CAFile = strings.TrimSpace(s.caFile.Text)
	c.App.StartAtLogin = s.startAtLogin.Checked
	if on := s.notifications.Checked; on != cur.App.NotificationsEnabled() {
		c.App.Notifications = &on
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *settingsScreen) doSave() {
	c, err := s.values()
	if err != nil {
		s.result.Importance = widget.DangerImportance
		s.result.SetText(err.Error())
		return
	}
	s.save.Disable()
	s.result.Importance = widget.LowImportance
	s.result.SetText("saving…")
	go func() {
		changed, err := s.a.b.Settings.SaveSettings(c)
		runOnUI(func() {
			s.save.Enable()
			if err != nil {
				s.result.Importance = widget.DangerImportance
				s.result.SetText("not saved: " + err.Error())
				return
			}
			s.load() // as the file now says
			s.result.Importance = widget.SuccessImportance
			if len(changed) == 0 {
				s.result.SetText("Nothing changed: the file was left as it was.")
				return
			}
			names := make([]string, len(changed))
			for i, f := range changed {
				names[i] = f.String()
			}
			s.result.SetText("Saved " + strings.Join(names, ", ") + ". The proxy applies it within a second (the listen address at the next start).")
		})
	}()
}
