package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCA writes a self-signed CA certificate as PEM into dir/name.
func writeCA(t *testing.T, dir, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNetworkSettingsCombineGlobalAndProvider(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir, "corp.pem")
	own := writeCA(t, dir, "own.pem")
	c, err := Parse([]byte(`proxy_url = "http://proxy.corp:3128"
ca_file = "corp.pem"

[[provider]]
name = "direct"
format = "openai"
base_url = "https://llm.internal/v1"
proxy_url = "none"
ca_file = "`+own+`"
insecure_skip_verify = true
`), filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := c.Provider("openai")
	if o.Network.Proxy() != "http://proxy.corp:3128" || len(o.Network.CAFiles) != 1 ||
		o.Network.CAFiles[0] != filepath.Join(dir, "corp.pem") || o.Network.InsecureSkipVerify {
		t.Errorf("openai inherits %+v, want the global proxy and ca_file", o.Network)
	}
	d, _ := c.Provider("direct")
	if d.Network.Proxy() != ProxyNone || len(d.Network.CAFiles) != 2 || d.Network.CAFiles[1] != own || !d.Network.InsecureSkipVerify {
		t.Errorf("direct has %+v, want none, both CA files, insecure", d.Network)
	}
	if n := Default().Providers[0].Network; n.Proxy() != ProxyEnv || n.CAFiles != nil {
		t.Errorf("default network %+v, want env and no CA file", n)
	}
}

func TestPresetOverrideKeepsNetworkFields(t *testing.T) {
	c, err := Parse([]byte("[[provider]]\nname = \"openai\"\nproxy_url = \"none\"\n"), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := c.Provider("openai"); o.ProxyURL != ProxyNone || o.Network.Proxy() != ProxyNone {
		t.Errorf("openai proxy_url %q / %q, want none", o.ProxyURL, o.Network.Proxy())
	}
}

func TestBadNetworkSettingsAreLocated(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prov := "[[provider]]\nname = \"x\"\nformat = \"openai\"\nbase_url = \"http://h/v1\"\n"
	for _, tc := range []struct {
		name, src string
		want      []string
		notWant   string
	}{
		{"global proxy word", "listen = \"127.0.0.1:1\"\nproxy_url = \"corp\"\n", []string{"c.toml:2", "proxy_url", `"env", "none" or a proxy URL`}, ""},
		{"socks", "proxy_url = \"socks5://127.0.0.1:1080\"\n", []string{"c.toml:1", "proxy_url", "socks5", "http:// or https://"}, ""},
		{"path", "proxy_url = \"http://proxy:3128/x\"\n", []string{"c.toml:1", "proxy_url", "no path"}, ""},
		{"password not echoed", "proxy_url = \"ftp://bob:hunter2@proxy:21\"\n", []string{"c.toml:1", "proxy_url"}, "hunter2"},
		{"provider proxy", prov + "proxy_url = \"direct\"\n", []string{"c.toml:5", "provider[0].proxy_url"}, ""},
		{"missing ca", "ca_file = \"nope.pem\"\n", []string{"c.toml:1", "ca_file", "cannot read", "nope.pem"}, ""},
		{"not pem", prov + "ca_file = \"" + notPEM + "\"\n", []string{"c.toml:5", "provider[0].ca_file", "no PEM certificate"}, ""},
		{"insecure type", prov + "insecure_skip_verify = \"yes\"\n", []string{"c.toml:5", "insecure_skip_verify"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), filepath.Join(dir, "c.toml"))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tc.src)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("error %q shows %q", err, tc.notWant)
			}
		})
	}
}

func TestRedactProxyURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://proxy:3128":             "http://proxy:3128",
		"http://bob:hunter2@proxy:3128": "http://***@proxy:3128",
		"http://tok@proxy:3128":         "http://***@proxy:3128",
		"env":                           "env",
		"bob:hunter2@proxy":             "[REDACTED]",
	} {
		if got := RedactProxyURL(in); got != want {
			t.Errorf("RedactProxyURL(%q) got %q, want %q", in, got, want)
		}
	}
}
