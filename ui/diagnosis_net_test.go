package ui

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// The classes come from real failures in proxy/egress_test.go (a 407 from a
// CONNECT proxy, a certificate from a CA generated in the test); here, what the
// user reads about them.
func TestDiagnoseNetworkFailures(t *testing.T) {
	const url = "https://api.corp.example/v1/chat/completions"
	for _, tc := range []struct {
		name    string
		attempt store.Attempt
		want    []string
	}{
		{"407 from the proxy", store.Attempt{Provider: "corp", ErrorClass: string(proxy.ClassProxyAuth), URL: url,
			Error: "connection to corp failed: proxy http://127.0.0.1:3128 wants credentials (407 Proxy Authentication Required)"},
			[]string{"https://api.corp.example", "407", "http://user:password@proxy:port", "HTTPS_PROXY", "proxy_url"}},
		{"untrusted certificate", store.Attempt{Provider: "corp", ErrorClass: string(proxy.ClassTLSUntrusted), URL: url,
			Error: "TLS handshake with api.corp.example through proxy http://127.0.0.1:3128: x509: certificate signed by unknown authority"},
			[]string{"https://api.corp.example", "does not trust", "inspects TLS", "root certificate", "CA file in Settings"}},
		{"tunnel refused", store.Attempt{Provider: "corp", ErrorClass: string(proxy.ClassNetProxy), URL: url,
			Error: "proxy http://127.0.0.1:3128 refused to open a tunnel to api.corp.example:443: 403 Forbidden"},
			[]string{"403 Forbidden", "HTTPS_PROXY", "allows this host", `"none"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := store.Call{Outcome: store.OutcomeError, Status: 502, Attempts: []store.Attempt{tc.attempt}}
			got := Diagnose(&c, nil)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Diagnose got %q, want it to contain %q", got, w)
				}
			}
		})
	}
}
