package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The running instance advertises itself in its data folder so that commands
// given only --data can reach its admin API:
//
//	instance.json  {"addr":"127.0.0.1:8765","pid":1234,"version":"…"}   mode 0600
//	admin.token    hex token required by /_gatehouse/api/               mode 0600
const (
	instanceFile = "instance.json"
	tokenFile    = "admin.token"
	// tokenHeader carries the admin token on /_gatehouse/api/ requests.
	tokenHeader = "X-Gatehouse-Token"
)

// instanceInfo is the content of instance.json.
type instanceInfo struct {
	Addr    string    `json:"addr"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
}

// writeInstance records the running instance in dataDir.
func writeInstance(dataDir string, info instanceInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode instance info: %w", err)
	}
	return writeFileAtomic(filepath.Join(dataDir, instanceFile), b, 0o600)
}

// readInstance reads the instance advertised in dataDir.
func readInstance(dataDir string) (instanceInfo, error) {
	var info instanceInfo
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

// removeInstance deletes instance.json if it still names this process.
func removeInstance(dataDir string) {
	if info, err := readInstance(dataDir); err == nil && info.PID == os.Getpid() {
		_ = os.Remove(filepath.Join(dataDir, instanceFile))
	}
}

// loadAdminToken reads the admin token of dataDir, creating it on first use.
func loadAdminToken(dataDir string) (string, error) {
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
	if err := writeFileAtomic(p, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// writeFileAtomic writes through a temp file and rename, so readers never see a
// half-written file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// adminClient talks to a running instance's admin API.
type adminClient struct {
	base  string // http://ADDR
	token string
	http  *http.Client
}

// findRunning returns a client for the instance running with dataDir, if one
// answers its health check within a second.
func findRunning(dataDir string) (*adminClient, bool) {
	info, err := readInstance(dataDir)
	if err != nil {
		return nil, false
	}
	tok, err := os.ReadFile(filepath.Join(dataDir, tokenFile))
	if err != nil {
		return nil, false
	}
	c := &adminClient{
		base:  "http://" + info.Addr,
		token: strings.TrimSpace(string(tok)),
		http:  &http.Client{Timeout: 30 * time.Second},
	}
	probe := &http.Client{Timeout: time.Second}
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

// do sends one admin request; path is relative to /_gatehouse/api/.
func (c *adminClient) do(method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+"/_gatehouse/api/"+strings.TrimPrefix(path, "/"), bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("admin request: %w", err)
	}
	req.Header.Set(tokenHeader, c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
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
