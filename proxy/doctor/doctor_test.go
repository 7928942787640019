package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// fakeProvider is an OpenAI-format provider on 127.0.0.1: /v1/models lists m1
// and m1-mini for the key "sk-good-key-0001" (with rate-limit headers) and
// answers 401 in OpenAI's shape otherwise. tlsCert, when set, serves https.
func fakeProvider(t *testing.T, tlsCert *tls.Certificate) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if tlsCert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*tlsCert}})
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		if string(ctx.Request.Header.Peek("Authorization")) != "Bearer sk-good-key-0001" {
			ctx.SetStatusCode(401)
			ctx.SetBodyString(`{"error":{"message":"Incorrect API key provided: ` + string(ctx.Request.Header.Peek("Authorization")) + `","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		ctx.Response.Header.Set("x-ratelimit-limit-requests", "500")
		ctx.Response.Header.Set("x-ratelimit-remaining-requests", "499")
		ctx.SetBodyString(`{"object":"list","data":[{"id":"m1","object":"model"},{"id":"m1-mini","object":"model"}]}`)
	}}
	srv.Logger = quiet{} // the TLS failures are the point
	go srv.Serve(ln)     //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	return addr
}

// providerConfig is a config with provider "fake" at baseURL, its key in
// FAKE_KEY; extra is more provider settings.
func providerConfig(t *testing.T, baseURL, key, extra string) *config.Config {
	t.Helper()
	t.Setenv("FAKE_KEY", key)
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(v, "")
	}
	cfg, err := config.Parse([]byte("[[provider]]\nname = \"fake\"\nformat = \"openai\"\nbase_url = \""+baseURL+
		"\"\nkey_env = \"FAKE_KEY\"\nmodels = [\"m*\"]\n"+extra), filepath.Join(t.TempDir(), "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// diagnose runs the doctor for what and returns the only report.
func diagnose(t *testing.T, cfg *config.Config, what string) Report {
	t.Helper()
	d := &Doctor{StepTimeout: 3 * time.Second, Version: "test"}
	reps, err := d.For(context.Background(), cfg, what)
	if err != nil {
		t.Fatalf("doctor %q: %v", what, err)
	}
	if len(reps) != 1 {
		t.Fatalf("doctor %q: %d reports, want 1", what, len(reps))
	}
	return reps[0]
}

func statusOf(r Report, name string) Status {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

func TestDoctorVerdicts(t *testing.T) {
	good := fakeProvider(t, nil)
	dead := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	selfSigned := fakeProvider(t, certFor(t, time.Now().Add(90*24*time.Hour), nil))
	ca := newCA(t)
	expired := fakeProvider(t, certFor(t, time.Now().Add(-48*time.Hour), ca))
	otherName := fakeProvider(t, certFor(t, time.Now().Add(90*24*time.Hour), ca, "api.example.com"))
	caFile := "ca_file = \"" + ca.pemFile + "\"\n"

	for _, tc := range []struct {
		name, baseURL, key, extra, what string
		failed                          string // the failing check; "" none
		verdict                         []string
	}{
		{name: "healthy", baseURL: "http://" + good + "/v1", key: "sk-good-key-0001", what: "fake/m1",
			verdict: []string{"fake (m1): every check passed"}},
		{name: "refused port", baseURL: "http://" + dead + "/v1", key: "sk-good-key-0001", what: "fake",
			failed:  CheckTCP,
			verdict: []string{"TCP connect fails", dead + " refused the connection: nothing listens", "Fix: is the server running?"}},
		{name: "unknown host", baseURL: "https://api.nothing-here.invalid/v1", key: "sk-good-key-0001", what: "fake",
			failed:  CheckDNS,
			verdict: []string{"DNS fails: api.nothing-here.invalid", "Fix: check the spelling of the host in base_url"}},
		{name: "self-signed certificate", baseURL: "https://" + selfSigned + "/v1", key: "sk-good-key-0001", what: "fake",
			failed:  CheckTLS,
			verdict: []string{"TLS fails: the certificate of 127.0.0.1 is signed by an authority this machine does not trust", "Fix: if you trust this server", "ca_file"}},
		{name: "expired certificate", baseURL: "https://" + expired + "/v1", key: "sk-good-key-0001", extra: caFile, what: "fake",
			failed:  CheckTLS,
			verdict: []string{"TLS fails: the certificate of 127.0.0.1 expired on " + time.Now().Add(-48*time.Hour).UTC().Format("2006-01-02"), "renew"}},
		{name: "certificate for another host", baseURL: "https://" + otherName + "/v1", key: "sk-good-key-0001", extra: caFile, what: "fake",
			failed:  CheckTLS,
			verdict: []string{"the certificate is for api.example.com, not 127.0.0.1"}},
		{name: "wrong key", baseURL: "http://" + good + "/v1", key: "sk-wrong-key-9999", what: "fake",
			failed:  CheckAuth,
			verdict: []string{"authentication fails: 401 invalid key: Incorrect API key provided", "gatehouse keys set fake"}},
		{name: "missing model", baseURL: "http://" + good + "/v1", key: "sk-good-key-0001", what: "m1-max",
			failed:  CheckModel,
			verdict: []string{"fake (m1-max): model fails: m1-max is not among the 2 models fake lists", "close names: m1-mini;"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := diagnose(t, providerConfig(t, tc.baseURL, tc.key, tc.extra), tc.what)
			for _, want := range tc.verdict {
				if !strings.Contains(r.Verdict, want) {
					t.Errorf("verdict %q\nwant it to say %q", r.Verdict, want)
				}
			}
			if got, ok := r.Failure(); tc.failed == "" && ok || tc.failed != "" && got.Name != tc.failed {
				t.Errorf("failing check %q (%q), want %q", got.Name, got.Detail, tc.failed)
			}
			if r.Failed != (tc.failed != "") {
				t.Errorf("Failed = %v", r.Failed)
			}
			if strings.Contains(r.Verdict, "sk-wrong-key-9999") {
				t.Errorf("the verdict shows the key: %q", r.Verdict)
			}
		})
	}
}

// TestDoctorHealthyReport checks the details a user reads when all is well:
// where the key comes from, the TLS version and expiry, the rate-limit headers.
func TestDoctorHealthyReport(t *testing.T) {
	ca := newCA(t)
	addr := fakeProvider(t, certFor(t, time.Now().Add(200*24*time.Hour), ca))
	cfg := providerConfig(t, "https://"+addr+"/v1", "sk-good-key-0001", "ca_file = \""+ca.pemFile+"\"\n")
	r := diagnose(t, cfg, "m1")
	var out strings.Builder
	if err := r.Write(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"OK    configuration   openai format, base URL https://" + addr + "/v1; route: m1 matches the model globs of fake (m*); key from FAKE_KEY (sk-…0001)",
		"OK    DNS             127.0.0.1 is an IP address",
		"OK    TLS             TLS 1.3, certificate for 127.0.0.1 valid until",
		"OK    authentication  the provider accepted the key",
		"OK    model           m1 is among the 2 models fake lists",
		"OK    rate limits     x-ratelimit-limit-requests=500, x-ratelimit-remaining-requests=499",
		"verdict: fake (m1): every check passed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "sk-good-key-0001") {
		t.Errorf("the report shows the key:\n%s", text)
	}
}

type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemFile string
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Doctor Test CA"},
		NotBefore: time.Now().Add(-365 * 24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pemFile: f}
}

// certFor makes a server certificate valid until notAfter, for 127.0.0.1 or
// the given DNS names, signed by ca (nil: self-signed).
func certFor(t *testing.T, notAfter time.Time, ca *testCA, names ...string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "doctor test server"},
		NotBefore: notAfter.Add(-400 * 24 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: names,
	}
	if len(names) == 0 {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
