package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// TestAllowRemoteServesOwnHostName: --allow-remote was ignored by the Host
// check, which read only the config, so every request naming this machine
// rather than localhost got 403 (issue 13). A request from this machine
// naming it by host name needs no token.
func TestAllowRemoteServesOwnHostName(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skip("no host name")
	}
	up := startUpstream(t, "")
	data := t.TempDir()
	writeTestConfig(t, data, up)
	p := startServeWith(t, testBinary(t), data, freeAddr(t), testEnv(), "--allow-remote")
	_, port, _ := net.SplitHostPort(p.addr)
	status, body := post(t, "http://"+p.addr+"/v1/chat/completions", host+":"+port, "", chatJSON("gpt-4o"))
	if status != 200 {
		t.Fatalf("Host %s with --allow-remote: status %d, want 200: %s", host, status, body)
	}
	status, body = post(t, "http://"+p.addr+"/v1/chat/completions", "attacker.example:"+port, "", chatJSON("gpt-4o"))
	if status != 403 || !strings.Contains(body, "allow_hosts") {
		t.Errorf("rebinding Host: status %d, want 403 naming allow_hosts: %s", status, body)
	}
}

// netnsEnv marks the re-executed test binary running inside its own network
// namespace.
const netnsEnv = "GATEHOUSE_TEST_NETNS"

// TestSharingOnTheNetwork runs Gatehouse on a non-loopback address, 10.99.0.1
// on a veth pair inside a network namespace the test makes (it re-executes
// itself under `unshare --net`, so the machine's own interfaces are never
// used), and calls it from 10.99.0.2: without a token, with tokens, with a
// rebinding Host, out of scope, and over budget.
func TestSharingOnTheNetwork(t *testing.T) {
	if os.Getenv(netnsEnv) == "" {
		bin := testBinary(t)
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("no unshare: cannot make a network namespace")
		}
		if _, err := exec.LookPath("ip"); err != nil {
			t.Skip("no ip command (iproute2): cannot set up a network namespace")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "unshare", "--net", "--", os.Args[0], "-test.run", "^TestSharingOnTheNetwork$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), netnsEnv+"="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil && strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("network namespaces are not permitted here: %s", strings.TrimSpace(string(out)))
		}
		t.Logf("inside the namespace:\n%s", out)
		if err != nil {
			t.Fatalf("the test inside the network namespace failed: %v", err)
		}
		return
	}
	for _, c := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "gh0", "type", "veth", "peer", "name", "gh1"},
		{"addr", "add", "10.99.0.1/24", "dev", "gh0"},
		{"addr", "add", "10.99.0.2/24", "dev", "gh1"},
		{"link", "set", "gh0", "up"},
		{"link", "set", "gh1", "up"},
	} {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	bin := os.Getenv(netnsEnv)
	up := startUpstream(t, "")
	data := t.TempDir()
	writeTestConfig(t, data, up)
	addr := "10.99.0.1:8765"
	// A token made before the start, by the command editing the file.
	scoped := clientsAdd(t, bin, data, "ci-bot", "--models", "gpt-4o*", "--daily-tokens", "100")
	p := startServeWith(t, bin, data, addr, testEnv(), "--allow-remote")
	// A token made while it runs, through the admin API: in force at once.
	free := clientsAdd(t, bin, data, "laptop")

	base := "http://" + addr + "/v1/chat/completions"
	status, body := post(t, base, "", "", chatJSON("gpt-4o"))
	if status != 401 || gjson.Get(body, "error.message").String() == "" || !strings.Contains(body, "client token") {
		t.Fatalf("remote without a token: status %d, want 401 in the OpenAI format: %s", status, body)
	}
	status, body = post(t, base, "", "Bearer gh_not-a-real-token", chatJSON("gpt-4o"))
	if status != 401 || !strings.Contains(body, "not known") {
		t.Errorf("remote with an unknown token: status %d, want 401: %s", status, body)
	}
	status, body = post(t, base, "", "Bearer "+free, chatJSON("gpt-4o"))
	if status != 200 {
		t.Fatalf("remote with a token: status %d, want 200: %s", status, body)
	}
	if k := up.lastKey(); strings.HasPrefix(k, "gh_") {
		t.Errorf("the client token reached the upstream: %q", k)
	}
	// A team's Prometheus scrapes /metrics with a client token (issue 14 §4).
	metricsURL := "http://" + addr + "/metrics"
	if status, body = post(t, metricsURL, "", "", ""); status != 403 {
		t.Errorf("remote /metrics without a token: status %d, want 403: %.200s", status, body)
	}
	if status, body = post(t, metricsURL, "", "Bearer "+free, ""); status != 200 || !strings.Contains(body, "gatehouse_requests_total") {
		t.Errorf("remote /metrics with a token: status %d, want 200 with the metrics: %.200s", status, body)
	}
	status, body = post(t, base, "gatehouse.attacker.example:8765", "Bearer "+free, chatJSON("gpt-4o"))
	if status != 403 || !strings.Contains(body, "not allowed") {
		t.Errorf("rebinding Host with a token: status %d, want 403: %s", status, body)
	}
	status, body = post(t, base, "", "Bearer "+scoped, chatJSON("gpt-4.1"))
	if status != 403 || !strings.Contains(body, "models scope") || !strings.Contains(body, "gpt-4o*") {
		t.Errorf("out-of-scope model: status %d, want 403 naming the scope: %s", status, body)
	}
	// Each call uses 35 tokens (the fixture's usage): the third starts with 70
	// used and is let through, the fourth finds the 100-token budget spent.
	var last *http.Response
	for i := range 4 {
		var b string
		last, b = postResp(t, base, "", "Bearer "+scoped, chatJSON("gpt-4o"))
		if i < 3 && last.StatusCode != 200 {
			t.Fatalf("call %d within budget: status %d: %s", i+1, last.StatusCode, b)
		}
		body = b
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" || !strings.Contains(body, "daily budget of 100 tokens") {
		t.Errorf("over budget: status %d Retry-After %q, want 429 naming the budget: %s", last.StatusCode, last.Header.Get("Retry-After"), body)
	}
	status, body = post(t, "http://"+addr+"/_gatehouse/api/history", "", "", "")
	if status != 403 {
		t.Errorf("admin API from another machine: status %d, want 403: %s", status, body)
	}
	// History names the client of each call (it is written a moment later).
	var rows []map[string]any
	for range 50 {
		out, err := exec.Command(bin, "history", "--data", data, "--client", "ci-bot", "--json").Output()
		if err != nil {
			t.Fatalf("history --client: %v", err)
		}
		if rows = jsonLines(t, string(out)); len(rows) == 5 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rows) != 5 || rows[0]["client"] != "ci-bot" || rows[0]["status"] != float64(429) {
		t.Errorf("history --client ci-bot: %d calls (want 5: out of scope, 3 ok, over budget), newest %v", len(rows), rows)
	}
	out, _ := exec.Command(bin, "clients", "list", "--data", data, "--json").Output()
	for _, r := range jsonLines(t, string(out)) {
		if r["name"] == "ci-bot" && r["tokens_today"] != float64(105) {
			t.Errorf("clients list: ci-bot used %v tokens today, want 105: %s", r["tokens_today"], out)
		}
	}
	_ = p.stop(t)

	// After a restart the day's usage comes back from history: still over.
	p = startServeWith(t, bin, data, addr, testEnv(), "--allow-remote")
	if status, body = post(t, base, "", "Bearer "+scoped, chatJSON("gpt-4o")); status != 429 {
		t.Errorf("over budget after a restart: status %d, want 429: %s", status, body)
	}
	_ = p.stop(t)
}

// testEnv is the environment with the fake upstream's key.
func testEnv() []string { return append(os.Environ(), "GATEHOUSE_TEST_KEY=test-key") }

// clientsAdd runs `gatehouse clients add NAME FLAGS` and returns the token.
func clientsAdd(t testing.TB, bin, data, name string, flags ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"clients", "add", name, "--data", data}, flags...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("clients add %s: %v %s", name, err, out)
	}
	tok, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(tok, "gh_") || len(tok) != 46 {
		t.Fatalf("clients add printed %q, want a gh_ token first", out)
	}
	return tok
}

func chatJSON(model string) string {
	return fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"What is the capital of Australia?"}],"max_tokens":10}`, model)
}

// remoteClient dials from 10.99.0.2 inside the test's namespace (from
// loopback elsewhere).
var remoteClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{}
		if strings.HasPrefix(addr, "10.99.0.") {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP("10.99.0.2")}
		}
		return d.DialContext(ctx, network, addr)
	},
}}

// post sends body (GET when empty) with Host and Authorization when set.
func post(t testing.TB, url, host, auth, body string) (int, string) {
	t.Helper()
	resp, b := postResp(t, url, host, auth, body)
	return resp.StatusCode, b
}

func postResp(t testing.TB, url, host, auth, body string) (*http.Response, string) {
	t.Helper()
	method := http.MethodPost
	if body == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := remoteClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestTLSListener: with tls_cert and tls_key the listener speaks HTTPS (a
// tool trusting the certificate calls it), plain HTTP gets nothing, and the
// commands still reach the running instance.
func TestTLSListener(t *testing.T) {
	up := startUpstream(t, "")
	data := t.TempDir()
	certPEM := writeSelfSigned(t, data)
	writeUpstreamConfig(t, data, up.addr, "")
	cfg, _ := os.ReadFile(filepath.Join(data, "config.toml"))
	if err := os.WriteFile(filepath.Join(data, "config.toml"), append([]byte("tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n"), cfg...), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := testBinary(t)
	p := startServeWith(t, bin, data, freeAddr(t), testEnv())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Post("https://"+p.addr+"/v1/chat/completions", "application/json", strings.NewReader(chatJSON("gpt-4o")))
	if err != nil {
		t.Fatalf("https call: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Canberra") {
		t.Errorf("https call: %d %s", resp.StatusCode, b)
	}
	if resp, err := http.Get("http://" + p.addr + "/_gatehouse/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered 200 on a TLS listener")
		}
	}
	out, err := exec.Command(bin, "clients", "add", "over-tls", "--data", data).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "gh_") {
		t.Errorf("clients add through the TLS instance: %v %s", err, out)
	}
}

// writeSelfSigned writes cert.pem and key.pem for 127.0.0.1 into dir and
// returns the certificate.
func writeSelfSigned(t testing.TB, dir string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatehouse test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPEM
}
