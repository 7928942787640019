package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Proxy modes of proxy_url besides a proxy's URL.
const (
	// ProxyEnv follows HTTPS_PROXY, HTTP_PROXY and NO_PROXY (and their lowercase
	// forms) as curl and Go programs do. It is the default.
	ProxyEnv = "env"
	// ProxyNone connects directly, whatever the environment says.
	ProxyNone = "none"
)

// Network is how a provider's calls reach the network, its own settings and the
// global ones combined. Load fills Provider.Network; a zero Network means the
// defaults: the environment's proxy and the system's roots.
type Network struct {
	// ProxyURL is ProxyEnv, ProxyNone or an http:// or https:// proxy URL. The
	// provider's proxy_url wins over the global one; "" means ProxyEnv.
	ProxyURL string
	// CAFiles are PEM files trusted on top of the system roots, as absolute
	// paths: the global ca_file, then the provider's.
	CAFiles []string
	// InsecureSkipVerify turns certificate checks off (provider setting only).
	InsecureSkipVerify bool
}

// Proxy returns ProxyURL, with "" read as ProxyEnv.
func (n Network) Proxy() string {
	if n.ProxyURL == "" {
		return ProxyEnv
	}
	return n.ProxyURL
}

// ValidProxyURL checks a proxy_url value: "", "env", "none", or an http:// or
// https:// URL with a host and nothing after it. Its error never repeats the
// value, which may hold a password.
func ValidProxyURL(s string) error {
	if s == "" || s == ProxyEnv || s == ProxyNone {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New(`must be "env", "none" or a proxy URL such as http://proxy.example.com:3128`)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("proxy scheme %q is not supported: use http:// or https:// (CONNECT proxies)", u.Scheme)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("a proxy URL has no path: use scheme://[user:password@]host:port")
	}
	return nil
}

// RedactProxyURL is a proxy URL fit to show: user name and password hidden.
// Values that are not URLs ("env", "none") come back unchanged.
func RedactProxyURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if strings.Contains(s, "@") {
			return "[REDACTED]"
		}
		return s
	}
	if u.User == nil {
		return s
	}
	return u.Scheme + "://***@" + u.Host
}

// resolveCAFile makes a ca_file path absolute: "~/" is the home folder, and a
// relative path is taken from the config file's folder.
func resolveCAFile(path, configPath string) string {
	if path == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(filepath.Dir(configPath), path)
}

// ReadCAFile reads a PEM file and returns its certificates; a file holding none
// is an error.
func ReadCAFile(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cannot read %s: %w", path, os.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	var certs []*x509.Certificate
	for len(b) > 0 {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: a certificate does not parse: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path)
	}
	return certs, nil
}

// resolveNetwork fills every provider's Network from its own and the global
// settings.
func (c *Config) resolveNetwork() {
	global := resolveCAFile(c.CAFile, c.Path)
	for i := range c.Providers {
		p := &c.Providers[i]
		n := Network{ProxyURL: c.ProxyURL, InsecureSkipVerify: p.InsecureSkipVerify}
		if p.ProxyURL != "" {
			n.ProxyURL = p.ProxyURL
		}
		if global != "" {
			n.CAFiles = append(n.CAFiles, global)
		}
		if f := resolveCAFile(p.CAFile, c.Path); f != "" && f != global {
			n.CAFiles = append(n.CAFiles, f)
		}
		p.Network = n
	}
}

// validateNetwork checks proxy_url and ca_file, globally and per provider.
func (c *Config) validateNetwork() error {
	if err := ValidProxyURL(c.ProxyURL); err != nil {
		return &fieldError{key: "proxy_url", msg: err.Error()}
	}
	if c.CAFile != "" {
		if _, err := ReadCAFile(resolveCAFile(c.CAFile, c.Path)); err != nil {
			return &fieldError{key: "ca_file", msg: err.Error()}
		}
	}
	for _, p := range c.Providers {
		if err := ValidProxyURL(p.ProxyURL); err != nil {
			return &fieldError{table: "provider", index: p.fileIndex, key: "proxy_url", msg: err.Error()}
		}
		if p.CAFile != "" {
			if _, err := ReadCAFile(resolveCAFile(p.CAFile, c.Path)); err != nil {
				return &fieldError{table: "provider", index: p.fileIndex, key: "ca_file", msg: err.Error()}
			}
		}
	}
	return nil
}
