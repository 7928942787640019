package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// settingsScreen edits the proxy's settings in the config file the headless
// mode reads too.
type settingsScreen struct {
	a       *App
	content fyne.CanvasObject

	listen, attempts, baseDelay, maxDelay *widget.Entry
	firstByte, idle, maxAge, maxSize      *widget.Entry
	bodyCap, origins                      *widget.Entry
	proxyURL, caFile                      *widget.Entry
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
	s.firstByte, s.idle = e("60s"), e("120s")
	s.maxAge, s.maxSize, s.bodyCap = e("720h"), e("512"), e("1048576")
	s.origins = e("http://localhost:3000, …")
	s.proxyURL = e("env (HTTPS_PROXY, NO_PROXY) · none · http://user:pass@proxy:3128")
	s.caFile = e("optional: PEM file, e.g. your company's root certificate")
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
		widget.NewFormItem("First byte timeout", s.firstByte),
		widget.NewFormItem("Idle timeout", s.idle), hint("silence allowed inside a response; no total limit"),
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
		widget.NewCard("Settings", "Saved to "+path+", which gatehouse serve reads too", form),
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
	v := SettingsOf(s.a.b.Settings.Current())
	s.listen.SetText(v.Listen)
	s.attempts.SetText(strconv.Itoa(v.Attempts))
	s.baseDelay.SetText(v.BaseDelay.String())
	s.maxDelay.SetText(v.MaxDelay.String())
	s.firstByte.SetText(v.FirstByteTimeout.String())
	s.idle.SetText(v.IdleTimeout.String())
	s.maxAge.SetText(v.MaxAge.String())
	s.maxSize.SetText(strconv.FormatInt(v.MaxSizeMB, 10))
	s.bodyCap.SetText(strconv.Itoa(v.BodyCapBytes))
	s.origins.SetText(strings.Join(v.AllowOrigins, ", "))
	s.proxyURL.SetText(v.ProxyURL)
	s.caFile.SetText(v.CAFile)
	s.startAtLogin.SetChecked(v.StartAtLogin)
	s.notifications.SetChecked(v.Notifications)
	s.result.SetText("")
}

// values reads and checks the form.
func (s *settingsScreen) values() (AppSettings, error) {
	var v AppSettings
	var errs []error
	dur := func(name, text string) time.Duration {
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration like 250ms, 8s or 720h", name, text))
		}
		return d
	}
	num := func(name, text string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive whole number", name, text))
		}
		return n
	}
	v.Listen = strings.TrimSpace(s.listen.Text)
	v.Attempts = int(num("attempts", s.attempts.Text))
	v.BaseDelay = dur("backoff base", s.baseDelay.Text)
	v.MaxDelay = dur("backoff max", s.maxDelay.Text)
	v.FirstByteTimeout = dur("first byte timeout", s.firstByte.Text)
	v.IdleTimeout = dur("idle timeout", s.idle.Text)
	v.MaxAge = dur("history age", s.maxAge.Text)
	v.MaxSizeMB = num("history size", s.maxSize.Text)
	v.BodyCapBytes = int(num("body cap", s.bodyCap.Text))
	for _, o := range strings.Split(s.origins.Text, ",") {
		if o = strings.TrimSpace(o); o != "" {
			v.AllowOrigins = append(v.AllowOrigins, o)
		}
	}
	v.ProxyURL = strings.TrimSpace(s.proxyURL.Text)
	if err := config.ValidProxyURL(v.ProxyURL); err != nil {
		errs = append(errs, fmt.Errorf("proxy: %w", err))
	}
	v.CAFile = strings.TrimSpace(s.caFile.Text)
	v.StartAtLogin = s.startAtLogin.Checked
	v.Notifications = s.notifications.Checked
	return v, errors.Join(errs...)
}

func (s *settingsScreen) doSave() {
	v, err := s.values()
	if err != nil {
		s.result.Importance = widget.DangerImportance
		s.result.SetText(err.Error())
		return
	}
	s.save.Disable()
	s.result.Importance = widget.LowImportance
	s.result.SetText("saving…")
	go func() {
		err := s.a.b.Settings.SaveSettings(v)
		runOnUI(func() {
			s.save.Enable()
			if err != nil {
				s.result.Importance = widget.DangerImportance
				s.result.SetText("not saved: " + err.Error())
				return
			}
			s.result.Importance = widget.SuccessImportance
			s.result.SetText("Saved. The proxy applies it within a second (the listen address at the next start).")
		})
	}()
}
