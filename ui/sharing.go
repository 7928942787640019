package ui

import (
	"net"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/ui/cli"
)

// Sharing is an optional Settings capability: "Share on the local network"
// (issue 13). On, Gatehouse listens on every interface and other machines
// call it with a client token; off, it listens on loopback only.
type Sharing interface {
	SetSharing(on bool) error
}

var _ Sharing = ConfigFile{}

// SetSharing sets allow_remote and moves listen to 0.0.0.0 (on) or
// 127.0.0.1 (off), keeping the port. The listener changes at the next start.
func (c ConfigFile) SetSharing(on bool) error {
	_, port, err := net.SplitHostPort(c.Current().Listen)
	if err != nil {
		port = "8765"
	}
	listen, allow := net.JoinHostPort("127.0.0.1", port), any(nil)
	if on {
		listen, allow = net.JoinHostPort("0.0.0.0", port), true
	}
	return c.edit(func(src []byte) ([]byte, error) {
		src, err := config.SetValue(src, config.Section{}, "listen", listen)
		if err != nil {
			return nil, err
		}
		return config.SetValue(src, config.Section{}, "allow_remote", allow)
	})
}

// sharedOn reports whether a listen address reaches other machines.
func sharedOn(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && !ip.IsLoopback()) || (ip == nil && host != "localhost")
}

// lanURLs are the base URLs other machines use for a listener on addr: one
// per address of this machine when it listens on all of them.
func lanURLs(addr string, tls bool) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !sharedOn(addr) {
		return nil
	}
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	ip := net.ParseIP(host)
	if ip != nil && !ip.IsUnspecified() {
		return []string{scheme + net.JoinHostPort(host, port)}
	}
	var out []string
	for _, a := range proxy.MachineAddrs(false) {
		if ip != nil && ip.To4() != nil && a.To4() == nil {
			continue // 0.0.0.0 listens on IPv4 only
		}
		out = append(out, scheme+net.JoinHostPort(a.String(), port))
	}
	return out
}

// newSharingCard is the "Share on the local network" switch with the URLs to
// share and a warning without TLS; Settings and Clients show it.
func newSharingCard(a *App) fyne.CanvasObject {
	var cfg *config.Config
	if a.b.Settings != nil {
		cfg = a.b.Settings.Current()
	}
	sh, ok := a.b.Settings.(Sharing)
	if cfg == nil || !ok {
		return container.NewVBox()
	}
	result := lowLabel("")
	result.Wrapping = fyne.TextWrapWord
	check := widget.NewCheck("Share on the local network", nil)
	check.SetChecked(cfg.AllowRemote && sharedOn(cfg.Listen))
	check.OnChanged = func(on bool) {
		go func() {
			err := sh.SetSharing(on)
			runOnUI(func() {
				if err != nil {
					result.Importance = widget.DangerImportance
					result.SetText("not saved: " + err.Error())
					return
				}
				result.Importance = widget.WarningImportance
				result.SetText("Saved to config.toml: restart Gatehouse to apply it.")
			})
		}()
	}
	help := widget.NewLabel("Other machines on your network may then call Gatehouse, each with a client token (Clients). " +
		"This machine's tools keep working without one, unless require_client_token is set.")
	help.Wrapping = fyne.TextWrapWord
	return widget.NewCard("Sharing", "", container.NewVBox(check, help, newLANInfo(a), result))
}

// newLANInfo lists the URLs to share while Gatehouse is shared, and warns
// when it is without TLS; empty otherwise. The Overview shows it too.
func newLANInfo(a *App) fyne.CanvasObject {
	out := container.NewVBox()
	addr := a.b.Proxy.Addr()
	var tls bool
	if a.b.Settings != nil {
		_, _, tls = a.b.Settings.Current().TLSFiles()
	}
	urls := lanURLs(addr, tls)
	if len(urls) == 0 {
		return out
	}
	out.Add(widget.NewLabelWithStyle("Shared on the network at", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	for _, u := range urls {
		u := u
		c := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() { a.copyText(u) })
		c.Importance = widget.LowImportance
		out.Add(container.NewBorder(nil, nil, nil, c, monoLabel(u+"/v1")))
	}
	if !tls {
		w := widget.NewLabel("⚠ Without TLS, tokens, prompts and answers cross the network in plain text: set tls_cert and tls_key in config.toml.")
		w.Importance = widget.WarningImportance
		w.Wrapping = fyne.TextWrapWord
		out.Add(w)
	}
	return out
}

// localBase is the proxy's base URL as this machine's tools dial it: loopback
// for a listener on every interface, https with tls_cert.
func (a *App) localBase() string {
	scheme := "http://"
	if a.b.Settings != nil {
		if _, _, tls := a.b.Settings.Current().TLSFiles(); tls {
			scheme = "https://"
		}
	}
	return scheme + cli.LoopbackAddr(a.b.Proxy.Addr())
}
