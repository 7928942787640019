package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// The running instance advertises itself in its data folder so that commands
// given only --data can reach its admin API:
//
//	instance.json  {"addr":"127.0.0.1:8765","pid":1234,"version":"…"}   mode 0600
//	admin.token    hex token required by /_gatehouse/api/               mode 0600
const (
	instanceFile = "instance.json"
	tokenFile    = "admin.token"
	// TokenHeader carries the admin token on /_gatehouse/api/ requests.
	TokenHeader = "X-Gatehouse-Token"
)

// Instance is the content of instance.json.
type Instance struct {
	Addr    string    `json:"addr"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	// TLS says the listener speaks HTTPS (tls_cert, tls_key).
	TLS bool `json:"tls,omitempty"`
}

// LoopbackAddr is addr with an unspecified host (0.0.0.0, ::, "") replaced by
// loopback: the address this machine's own tools dial (the Host check
// refuses 0.0.0.0, which names no machine).
func LoopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ip != nil && ip.To4() == nil {
			return net.JoinHostPort("::1", port)
		}
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// WriteInstance records the running instance in dataDir.
func WriteInstance(dataDir string, info Instance) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode instance info: %w", err)
	}
	return config.WriteFileAtomic(filepath.Join(dataDir, instanceFile), b, 0o600)
}

// ReadInstance reads the instance advertised in dataDir.
func ReadInstance(dataDir string) (Instance, error) {
	var info Instance
	b, err := os.ReadFile(filepath.Join(dataDir, instanceFile))
	if err != nil {
		return info, fmt.Errorf("read instance info: %w", err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("read instance info: %w", err)
	}
	if info.Addr == "" {
		return info, errors.New("read instance info: no address")
	}
	return info, nil
}

// RemoveInstance deletes instance.json if it still names this process.
func RemoveInstance(dataDir string) {
	if info, err := ReadInstance(dataDir); err == nil && info.PID == os.Getpid() {
		_ = os.Remove(filepath.Join(dataDir, instanceFile))
	}
}

// LoadAdminToken reads the admin token of dataDir, creating it on first use.
func LoadAdminToken(dataDir string) (string, error) {
	p := filepath.Join(dataDir, tokenFile)
	b, err := os.ReadFile(p)
	if err == nil && len(bytes.TrimSpace(b)) >= 32 {
		return string(bytes.TrimSpace(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make admin token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := config.WriteFileAtomic(p, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// Client talks to a running instance's admin API.
type Client struct {
	base  string // http://ADDR
	token string
	http  *http.Client
}

// FindRunning returns a client for the instance running with dataDir, if one
// answers its health check within a second.
func FindRunning(dataDir string) (*Client, bool) {
	info, err := ReadInstance(dataDir)
	if err != nil {
		return nil, false
	}
	tok, err := os.ReadFile(filepath.Join(dataDir, tokenFile))
	if err != nil {
		return nil, false
	}
	scheme, tr := "http://", http.DefaultTransport
	if info.TLS {
		// The instance's own certificate, on this machine's loopback: the admin
		// token, not the certificate, is what authenticates.
		scheme, tr = "https://", &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	c := &Client{
		base:  scheme + LoopbackAddr(info.Addr),
		token: strings.TrimSpace(string(tok)),
		http:  &http.Client{Timeout: 30 * time.Second, Transport: tr},
	}
	probe := &http.Client{Timeout: time.Second, Transport: tr}
	resp, err := probe.Get(c.base + "/_gatehouse/health")
	if err != nil {
		return nil, false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false
	}
	return c, true
}

// Do sends one admin request; path is relative to /_gatehouse/api/.
func (c *Client) Do(method, path string, body []byte) (int, []byte, error) {
	return c.do(c.http, method, path, body)
}

// DoTimeout is Do for a request that may take longer than Do's 30 s.
func (c *Client) DoTimeout(method, path string, body []byte, d time.Duration) (int, []byte, error) {
	hc := *c.http
	hc.Timeout = d
	return c.do(&hc, method, path, body)
}

func (c *Client) do(hc *http.Client, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+"/_gatehouse/api/"+strings.TrimPrefix(path, "/"), bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("admin request: %w", err)
	}
	req.Header.Set(TokenHeader, c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("admin request %s: %w", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("admin response %s: %w", path, err)
	}
	return resp.StatusCode, out, nil
}
