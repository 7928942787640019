package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// providersScreen lists every provider with its key status, and adds, edits
// and removes them; keys go straight to the keychain.
type providersScreen struct {
	a       *App
	content fyne.CanvasObject

	keychain *widget.Label // why the keychain is unavailable; hidden when it works
	list     *widget.List
	add      *widget.Button
	form     *providerForm // the open add/edit dialog, if any

	providers []config.Provider
	status    map[string]KeyStatus
	network   map[string]string // how each provider reaches the network (proxy.NetworkPath)
	results   map[string]string // inline result of the last action per provider
	circuits  map[string]proxy.CircuitState
}

func newProvidersScreen(a *App) *providersScreen {
	s := &providersScreen{a: a, status: map[string]KeyStatus{}, results: map[string]string{}, circuits: map[string]proxy.CircuitState{}}
	s.keychain = widget.NewLabel("")
	s.keychain.Wrapping = fyne.TextWrapWord
	s.keychain.Importance = widget.DangerImportance
	s.keychain.Hide()
	s.add = widget.NewButtonWithIcon("Add provider", theme.ContentAddIcon(), func() { s.openForm(nil) })
	s.add.Importance = widget.HighImportance
	s.list = widget.NewList(func() int { return len(s.providers) }, s.newProviderRow, s.updateRow)
	s.list.OnSelected = func(widget.ListItemID) { s.list.UnselectAll() }
	intro := widget.NewLabel("Keys live in the OS keychain only; Gatehouse never shows them again.")
	intro.Importance = widget.LowImportance
	top := container.NewVBox(container.NewBorder(nil, nil, nil, s.add, intro), s.keychain)
	s.content = container.NewBorder(top, nil, nil, nil, s.list)
	s.reload()
	return s
}

// reload reads providers and key statuses in the background; on the UI thread.
func (s *providersScreen) reload() {
	if s.a.b.Providers == nil {
		return
	}
	go func() {
		ps := s.a.b.Providers.List()
		st := map[string]KeyStatus{}
		network := make(map[string]string, len(ps))
		for i := range ps {
			network[ps[i].Name] = proxy.NetworkPath(&ps[i])
		}
		var avail error
		if s.a.b.Keys != nil {
			avail = s.a.b.Keys.Available()
			for _, p := range ps {
				st[p.Name] = s.a.b.Keys.Status(p.Name)
			}
		}
		runOnUI(func() {
			s.providers, s.status, s.network = ps, st, network
			if avail != nil {
				s.keychain.SetText("Keychain unavailable: " + avail.Error())
				s.keychain.Show()
			} else {
				s.keychain.Hide()
			}
			s.list.Refresh()
		})
	}()
}

// providerRow: name and URL, network path, circuit, key status, result, and the action buttons.
type providerRow struct {
	widget.BaseWidget
	name, detail, key, result  *widget.Label
	network, circuit           *widget.Label
	reset                      *widget.Button
	setKey, test, edit, remove *widget.Button
	check                      *widget.Button // "Check now" (doctor.go)
}

func (s *providersScreen) newProviderRow() fyne.CanvasObject {
	r := &providerRow{
		name:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		detail:  widget.NewLabel(""),
		key:     widget.NewLabel(""),
		result:  widget.NewLabel(""),
		network: widget.NewLabel(""),
		circuit: widget.NewLabel(""),
		reset:   widget.NewButtonWithIcon("Reset", theme.ViewRefreshIcon(), nil),
		setKey:  widget.NewButtonWithIcon("Key", theme.LoginIcon(), nil),
		test:    widget.NewButtonWithIcon("Test", theme.MediaPlayIcon(), nil),
		edit:    widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), nil),
		remove:  widget.NewButtonWithIcon("", theme.DeleteIcon(), nil),
	}
	r.check = s.a.newCheckNowButton(func() string { return r.name.Text })
	r.detail.Importance = widget.LowImportance
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.result.Truncation = fyne.TextTruncateEllipsis
	r.network.Wrapping = fyne.TextWrapWord
	r.ExtendBaseWidget(r)
	return r
}

func (r *providerRow) CreateRenderer() fyne.WidgetRenderer {
	left := container.NewBorder(nil, nil, r.name, nil, r.detail)
	right := container.NewHBox(r.key, r.setKey, r.test, r.check, r.edit, r.remove)
	return widget.NewSimpleRenderer(container.NewVBox(
		container.NewBorder(nil, nil, nil, right, left),
		container.NewBorder(nil, nil, nil, container.NewHBox(r.circuit, r.reset), r.network),
		r.result,
	))
}

func (s *providersScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(s.providers) {
		return
	}
	p := s.providers[id]
	r := o.(*providerRow)
	r.name.SetText(p.Name)
	origin := "custom"
	if p.Preset {
		origin = "preset"
	}
	r.detail.SetText(fmt.Sprintf("%s · %s · %s", p.Format, p.BaseURL, origin))
	r.network.SetText("network: " + s.network[p.Name])
	r.network.Importance = widget.LowImportance
	if p.Network.InsecureSkipVerify {
		r.network.Importance = widget.DangerImportance
	}
	r.network.Refresh()
	cs, known := s.circuits[p.Name]
	if !known {
		cs = proxy.CircuitState{Provider: p.Name, Health: proxy.CircuitHealthy}
	}
	r.circuit.SetText(circuitText(cs, s.a.b.now(), s.a.b.Settings))
	r.circuit.Importance = circuitImportance(cs.Health)
	r.circuit.Refresh()
	if cs.Health == proxy.CircuitHealthy {
		r.reset.Hide()
	} else {
		r.reset.Show()
	}
	r.reset.OnTapped = func() { s.resetCircuit(p.Name) }
	st := s.status[p.Name]
	r.key.SetText(keyText(p, st))
	switch {
	case st.Source == KeyNone && !p.NoKey:
		r.key.Importance = widget.WarningImportance
	case st.Source == KeyKeychain || st.Source == KeyEnv:
		r.key.Importance = widget.SuccessImportance
	default:
		r.key.Importance = widget.LowImportance
	}
	r.key.Refresh()
	if res := s.results[p.Name]; res != "" {
		r.result.SetText(res)
		r.result.Show()
	} else {
		r.result.SetText("")
		r.result.Hide()
	}
	name := p.Name
	r.setKey.OnTapped = func() { s.askKey(name) }
	r.test.OnTapped = func() { s.test(name) }
	pc := p
	r.edit.OnTapped = func() { s.openForm(&pc) }
	r.remove.OnTapped = func() { s.confirmRemove(name) }
	if p.NoKey {
		r.setKey.Disable()
	} else {
		r.setKey.Enable()
	}
	if p.InFile {
		r.remove.Enable()
	} else {
		r.remove.Disable() // a preset not overridden in the file: nothing to remove
	}
	s.list.SetItemHeight(id, r.MinSize().Height)
}

// refreshCircuits reads the breakers (a quick snapshot); on the UI thread.
func (s *providersScreen) refreshCircuits() {
	cs, ok := s.a.b.Proxy.(Circuits)
	if !ok {
		return
	}
	m := make(map[string]proxy.CircuitState)
	for _, c := range cs.Circuits() {
		m[c.Provider] = c
	}
	changed := len(m) != len(s.circuits)
	for k, v := range m {
		old := s.circuits[k]
		// An open circuit's countdown moves every second.
		changed = changed || old != v || v.Health == proxy.CircuitOpen
	}
	s.circuits = m
	if changed {
		s.list.Refresh()
	}
}

// resetCircuit closes a provider's circuit at once; on the UI thread.
func (s *providersScreen) resetCircuit(name string) {
	if cs, ok := s.a.b.Proxy.(Circuits); ok {
		cs.ResetCircuit(name)
		s.results[name] = "circuit reset: the next call goes to " + name
		s.refreshCircuits()
		s.list.Refresh()
	}
}

// circuitText is "circuit: healthy", "circuit: failing (2 in a row of 5)",
// "circuit: cooling down 24 s", "circuit: open, the next call tests it".
func circuitText(c proxy.CircuitState, now time.Time, settings Settings) string {
	switch c.Health {
	case proxy.CircuitFailing:
		of := ""
		if settings != nil {
			of = fmt.Sprintf(" of %d", settings.Current().Retry.CircuitFailures)
		}
		return fmt.Sprintf("circuit: failing (%d in a row%s before it opens)", c.Failures, of)
	case proxy.CircuitOpen:
		left := max(c.OpenUntil.Sub(now).Round(time.Second), time.Second)
		return "circuit: cooling down " + shortDuration(left) + ": calls skip it until " + c.OpenUntil.Local().Format("15:04:05")
	case proxy.CircuitProbing:
		return "circuit: open, the next call tests it"
	}
	return "circuit: healthy"
}

func circuitImportance(h proxy.CircuitHealth) widget.Importance {
	switch h {
	case proxy.CircuitFailing, proxy.CircuitProbing:
		return widget.WarningImportance
	case proxy.CircuitOpen:
		return widget.DangerImportance
	}
	return widget.LowImportance
}

// keyText is the key column: "keychain sk-…abcd", "env OPENAI_API_KEY", "no key".
func keyText(p config.Provider, st KeyStatus) string {
	switch {
	case p.NoKey:
		return "no key needed"
	case st.Source == KeyKeychain:
		return "keychain " + st.Mask
	case st.Source == KeyEnv:
		return "env " + p.KeyEnv + " " + st.Mask
	}
	return "no key"
}

// setResult shows text under a provider's row; on the UI thread.
func (s *providersScreen) setResult(name, text string) {
	s.results[name] = text
	s.list.Refresh()
}

// test checks a provider's key in the background and shows the answer inline.
func (s *providersScreen) test(name string) {
	if s.a.b.Keys == nil {
		return
	}
	s.setResult(name, "testing "+name+"…")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := s.a.b.Keys.Test(ctx, name)
		how := ""
		if p, ok := s.provider(name); ok && keyCheckMissing(err) {
			// No /models here: a one-token completion through the proxy tells instead.
			err, how = completionTest(ctx, s.a.b.Proxy.Addr(), p), " (checked with a one-token completion: no key check endpoint here)"
		}
		runOnUI(func() {
			if err != nil {
				s.setResult(name, "✗ "+err.Error())
			} else {
				s.setResult(name, "✓ the key works"+how)
			}
		})
	}()
}

// provider is the listed provider called name.
func (s *providersScreen) provider(name string) (config.Provider, bool) {
	for _, p := range s.a.b.Providers.List() {
		if p.Name == name {
			return p, true
		}
	}
	return config.Provider{}, false
}

// askKey asks for a provider's key in a masked field and stores it.
func (s *providersScreen) askKey(name string) {
	key := widget.NewPasswordEntry()
	key.SetPlaceHolder("paste the key")
	dialog.ShowForm("Key for "+name, "Save to keychain", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Key", key)}, func(ok bool) {
			if ok && key.Text != "" {
				s.storeKey(name, strings.TrimSpace(key.Text))
			}
			key.SetText("")
		}, s.a.Window())
}

// storeKey writes a key in the background; on the UI thread.
func (s *providersScreen) storeKey(name, secret string) {
	go func() {
		err := s.a.b.Keys.Set(name, secret)
		runOnUI(func() {
			if err != nil {
				s.setResult(name, "✗ key not saved: "+err.Error())
			} else {
				s.setResult(name, "✓ key saved in the keychain")
			}
			s.reload()
		})
	}()
}

func (s *providersScreen) confirmRemove(name string) {
	dialog.ShowConfirm("Remove "+name+"?", "Remove "+name+" from the config file? A preset comes back with its defaults.",
		func(ok bool) {
			if !ok {
				return
			}
			go func() {
				err := s.a.b.Providers.Remove(name)
				if err == nil && s.a.b.Keys != nil {
					if derr := s.a.b.Keys.Delete(name); derr != nil {
						s.a.b.log().Info("remove provider: key not deleted", "provider", name, "err", derr)
					}
				}
				runOnUI(func() {
					if err != nil {
						s.setResult(name, "✗ "+err.Error())
					}
					s.reload()
				})
			}()
		}, s.a.Window())
}

// providerForm is the add/edit dialog.
type providerForm struct {
	dlg     dialog.Dialog
	name    *widget.Entry
	format  *widget.Select
	baseURL *widget.Entry
	models  *widget.Entry
	keyEnv  *widget.Entry
	noKey   *widget.Check
	key     *widget.Entry
	// auth is the scheme ("" for the format's default); authOpt its one
	// parameter the form edits (the header name, or the basic user);
	// keyCheck the path Test calls.
	auth              *widget.Select
	authOpt, keyCheck *widget.Entry
	// Network: proxy_url, ca_file, insecure_skip_verify.
	proxyURL, caFile *widget.Entry
	insecure         *widget.Check
	errText          *widget.Label
	save             *widget.Button
	editing          *config.Provider
}

// openForm opens the add (p == nil) or edit dialog; on the UI thread.
func (s *providersScreen) openForm(p *config.Provider) {
	f := &providerForm{editing: p}
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("my-server (a-z, 0-9, -)")
	f.format = widget.NewSelect([]string{string(config.FormatOpenAI), string(config.FormatAnthropic), string(config.FormatGemini)}, nil)
	f.format.SetSelected(string(config.FormatOpenAI))
	f.baseURL = widget.NewEntry()
	f.baseURL.SetPlaceHolder("https://host/v1")
	f.models = widget.NewEntry()
	f.models.SetPlaceHolder("model globs, e.g. llama-*, qwen*")
	f.keyEnv = widget.NewEntry()
	f.keyEnv.SetPlaceHolder("environment variable (optional)")
	f.noKey = widget.NewCheck("needs no key (local server)", nil)
	f.key = widget.NewPasswordEntry()
	f.key.SetPlaceHolder("optional: stored in the keychain, never shown again")
	f.proxyURL = widget.NewEntry()
	f.proxyURL.SetPlaceHolder("as in Settings · env · none · http://user:pass@proxy:3128")
	f.caFile = widget.NewEntry()
	f.caFile.SetPlaceHolder("optional: PEM file of extra trusted certificates")
	f.insecure = widget.NewCheck("skip TLS certificate checks (dangerous)", nil)
	f.auth = widget.NewSelect(authChoices, nil)
	f.auth.PlaceHolder = authDefault
	f.authOpt = widget.NewEntry()
	f.authOpt.Hide()
	f.auth.OnChanged = func(v string) { showAuthOption(f.authOpt, v) }
	f.keyCheck = widget.NewEntry()
	f.keyCheck.SetPlaceHolder("/models (a cheap GET that needs the key)")
	warn := widget.NewLabel(proxy.InsecureWarning)
	warn.Importance = widget.DangerImportance
	warn.Wrapping = fyne.TextWrapWord
	warn.Hide()
	f.insecure.OnChanged = func(on bool) {
		if on {
			warn.Show()
		} else {
			warn.Hide()
		}
	}
	f.errText = widget.NewLabel("")
	f.errText.Importance = widget.DangerImportance
	f.errText.Wrapping = fyne.TextWrapWord
	title := "Add provider"
	if p != nil {
		title = "Edit " + p.Name
		f.name.SetText(p.Name)
		f.name.Disable()
		f.format.SetSelected(string(p.Format))
		f.baseURL.SetText(p.BaseURL)
		f.models.SetText(strings.Join(p.Models, ", "))
		f.keyEnv.SetText(p.KeyEnv)
		f.noKey.SetChecked(p.NoKey)
		f.proxyURL.SetText(p.ProxyURL)
		f.caFile.SetText(p.CAFile)
		f.insecure.SetChecked(p.InsecureSkipVerify)
		if p.Auth != "" {
			f.auth.SetSelected(p.Auth)
		}
		f.authOpt.SetText(p.AuthOptions.Header + p.AuthOptions.User)
		f.keyCheck.SetText(p.KeyCheck)
	}
	form := widget.NewForm(
		widget.NewFormItem("Name", f.name),
		widget.NewFormItem("Format", f.format),
		widget.NewFormItem("Base URL", f.baseURL),
		widget.NewFormItem("Models", f.models),
		widget.NewFormItem("Key env", f.keyEnv),
		widget.NewFormItem("", f.noKey),
		widget.NewFormItem("Key", f.key),
		widget.NewFormItem("Auth", container.NewGridWithColumns(2, f.auth, f.authOpt)),
		widget.NewFormItem("Key check", f.keyCheck),
		widget.NewFormItem("Proxy", f.proxyURL),
		widget.NewFormItem("CA file", f.caFile),
		widget.NewFormItem("", f.insecure),
		widget.NewFormItem("", warn),
	)
	f.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { s.submit(f) })
	f.save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { f.dlg.Hide() })
	content := container.NewVBox(form, f.errText, container.NewHBox(cancel, f.save))
	// A validation error goes away as soon as the form is right again.
	for _, e := range []*widget.Entry{f.name, f.baseURL, f.models, f.keyEnv, f.proxyURL, f.caFile, f.authOpt, f.keyCheck} {
		e.OnChanged = func(string) { f.revalidate() }
	}
	f.format.OnChanged = func(string) { f.revalidate() }
	f.dlg = dialog.NewCustomWithoutButtons(title, content, s.a.Window())
	f.dlg.Resize(fyne.NewSize(560, 0))
	f.dlg.SetOnClosed(func() {
		f.key.SetText("")
		if s.form == f {
			s.form = nil
		}
	})
	s.form = f
	f.dlg.Show()
}

// provider reads the form into a provider, checking what can be checked here.
func (f *providerForm) provider() (config.Provider, error) {
	var p config.Provider
	if f.editing != nil {
		p = *f.editing
	}
	p.Name = strings.TrimSpace(f.name.Text)
	p.Format = config.Format(f.format.Selected)
	p.BaseURL = strings.TrimRight(strings.TrimSpace(f.baseURL.Text), "/")
	p.Models = nil
	for _, m := range strings.Split(f.models.Text, ",") {
		if m = strings.TrimSpace(m); m != "" {
			p.Models = append(p.Models, m)
		}
	}
	p.KeyEnv = strings.TrimSpace(f.keyEnv.Text)
	p.NoKey = f.noKey.Checked
	p.ProxyURL = strings.TrimSpace(f.proxyURL.Text)
	p.CAFile = strings.TrimSpace(f.caFile.Text)
	p.InsecureSkipVerify = f.insecure.Checked
	p.Auth = f.auth.Selected
	if p.Auth == authDefault {
		p.Auth = ""
	}
	opt := strings.TrimSpace(f.authOpt.Text)
	p.AuthOptions.Header, p.AuthOptions.User = "", ""
	switch p.Auth {
	case "header":
		p.AuthOptions.Header = opt
	case "basic":
		p.AuthOptions.User = opt
	}
	p.KeyCheck = strings.TrimSpace(f.keyCheck.Text)
	if p.Auth == "header" && opt == "" {
		return p, errors.New("auth header: name the header the key goes in")
	}
	if p.KeyCheck != "" && !strings.HasPrefix(p.KeyCheck, "/") {
		return p, fmt.Errorf("key check %q: a path below the base URL, starting with /", p.KeyCheck)
	}
	return p, p.CheckEntry()
}

// revalidate clears the error shown once the form is valid; on the UI thread.
func (f *providerForm) revalidate() {
	if f.errText.Text == "" || f.errText.Text == "saving…" {
		return
	}
	if _, err := f.provider(); err != nil {
		f.errText.SetText(err.Error())
	} else {
		f.errText.SetText("")
	}
}

// The auth choices of the form; "" in the config is the format's default.
const authDefault = "default for the format"

var authChoices = []string{authDefault, "bearer", "x-api-key", "x-goog-api-key", "api-key", "header", "basic", "jwt", "aksk", "none"}

// showAuthOption shows the one parameter the chosen scheme needs.
func showAuthOption(e *widget.Entry, auth string) {
	switch auth {
	case "header":
		e.SetPlaceHolder("header name, e.g. X-Auth-Token")
		e.Show()
	case "basic":
		e.SetPlaceHolder("user (the key is the password)")
		e.Show()
	case "jwt", "aksk":
		e.SetPlaceHolder("set [provider.auth_options] in config.toml")
		e.Show()
	default:
		e.Hide()
	}
}

// submit saves the provider (and key) in the background; on the UI thread.
func (s *providersScreen) submit(f *providerForm) {
	p, err := f.provider()
	if err != nil {
		f.errText.SetText(err.Error())
		return
	}
	if f.editing == nil {
		for _, x := range s.providers {
			if x.Name == p.Name {
				f.errText.SetText("a provider named " + p.Name + " exists already: edit it instead")
				return
			}
		}
	}
	secret := strings.TrimSpace(f.key.Text)
	f.save.Disable()
	f.errText.SetText("saving…")
	go func() {
		err := s.a.b.Providers.Save(p)
		if err == nil && secret != "" && s.a.b.Keys != nil {
			if kerr := s.a.b.Keys.Set(p.Name, secret); kerr != nil {
				err = fmt.Errorf("provider saved, but the key was not: %w", kerr)
			}
		}
		runOnUI(func() {
			f.save.Enable()
			if err != nil {
				f.errText.SetText(err.Error())
				if secret == "" || !strings.HasPrefix(err.Error(), "provider saved") {
					return
				}
			}
			f.key.SetText("")
			f.dlg.Hide()
			s.reload()
		})
	}()
}
