package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// testBinary builds the gatehouse binary once per test run and returns its path.
// buildTags are the Makefile's TAGS: the binary under test is the one users run.
const buildTags = "no_emoji"

func testBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "gatehouse")
		// -buildvcs=auto: the commit is stamped where git can say it (version
		// tests check it), even when GOFLAGS turns stamping off.
		out, err := exec.Command("go", "build", "-buildvcs=auto", "-tags", buildTags, "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			builtBin = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, builtBin)
	}
	return builtBin
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProcess is a running `gatehouse serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	addr   string
	data   string
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `gatehouse serve` on a free loopback port with data folder
// data and this process's environment plus extraEnv, and waits until
// /_gatehouse/health answers.
func startServe(t testing.TB, data string, extraEnv ...string) *serveProcess {
	t.Helper()
	return startServeEnv(t, data, append(os.Environ(), extraEnv...))
}

// startServeEnv is startServe with the whole environment given.
func startServeEnv(t testing.TB, data string, env []string) *serveProcess {
	t.Helper()
	return startServeBinaryEnv(t, testBinary(t), data, env)
}

// startServeBinary is startServe with another build of gatehouse (a baseline).
func startServeBinary(t testing.TB, bin, data string, extraEnv ...string) *serveProcess {
	t.Helper()
	return startServeBinaryEnv(t, bin, data, append(os.Environ(), extraEnv...))
}

func startServeBinaryEnv(t testing.TB, bin, data string, env []string) *serveProcess {
	t.Helper()
	return startServeWith(t, bin, data, freeAddr(t), env)
}

// startServeWith runs bin serve on addr with data, env and extra flags, and
// waits until /_gatehouse/health answers (over https when scheme says so).
func startServeWith(t testing.TB, bin, data, addr string, env []string, flags ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--data", data}, flags...)...)
	cmd.Env = env
	p := &serveProcess{cmd: cmd, addr: addr, data: data, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := healthClient.Get(healthURL(data, addr))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("gatehouse serve exited: %v\n%s", err, p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("gatehouse serve did not answer within 15 s\n%s", p.stderr)
	return nil
}

// healthClient probes a starting instance; its certificate (tls_cert) is the
// test's own.
var healthClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// healthURL is the health check of an instance on addr: https when the data
// folder's config sets tls_cert.
func healthURL(data, addr string) string {
	if b, err := os.ReadFile(filepath.Join(data, "config.toml")); err == nil && bytes.Contains(b, []byte("tls_cert")) {
		return "https://" + addr + "/_gatehouse/health"
	}
	return "http://" + addr + "/_gatehouse/health"
}

// stop sends SIGTERM and returns the exit error (nil for exit code 0).
func (p *serveProcess) stop(t testing.TB) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("gatehouse serve did not stop within 15 s of SIGTERM\n%s", p.stderr)
		return nil
	}
}

func TestServeStartsAndStopsCleanlyOnSIGTERM(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data)
	resp, err := http.Get("http://" + p.addr + "/_gatehouse/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte(`"status":"ok"`)) {
		t.Errorf("health = %s", body)
	}
	for _, f := range []string{"instance.json", "admin.token"} {
		st, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "instance.json")); !os.IsNotExist(err) {
		t.Errorf("instance.json left behind after a clean stop")
	}
}

func TestServeLetsInFlightCallsFinishOnSIGTERM(t *testing.T) {
	// A slow upstream: the call is in flight when SIGTERM arrives.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(700 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"late but whole"},"finish_reason":"stop"}]}`)
	})}
	go srv.Serve(ln) //nolint:errcheck
	defer srv.Close()
	data := t.TempDir()
	cfg := "[[provider]]\nname = \"slow\"\nformat = \"openai\"\nbase_url = \"http://" + ln.Addr().String() + "/v1\"\nno_key = true\n"
	if err := os.WriteFile(filepath.Join(data, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, data)
	type result struct {
		body []byte
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+p.addr+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"slow/m","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{b, err}
	}()
	time.Sleep(200 * time.Millisecond)
	if err := p.stop(t); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.stderr)
	}
	r := <-res
	if r.err != nil || !bytes.Contains(r.body, []byte("late but whole")) {
		t.Errorf("in-flight call: %v %s", r.err, r.body)
	}
}

func TestServeRefusesBadConfigAndRemoteListen(t *testing.T) {
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "config.toml"), []byte("listen = \"127.0.0.1:1\"\n[retry]\nattempts = \"many\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testBinary(t), "serve", "--data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "config.toml:3") || !strings.Contains(string(out), "attempts") {
		t.Errorf("bad config: err %v, output %s", err, out)
	}
	out, err = exec.CommandContext(ctx, testBinary(t), "serve", "--data", t.TempDir(), "--listen", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--allow-remote") {
		t.Errorf("remote listen: err %v, output %s", err, out)
	}
	out, err = exec.CommandContext(ctx, testBinary(t), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "gatehouse ") {
		t.Errorf("version: %v %s", err, out)
	}
}

func TestListenFromEnvironment(t *testing.T) {
	addr := freeAddr(t)
	data := t.TempDir()
	cmd := exec.Command(testBinary(t), "serve", "--data", data)
	cmd.Env = append(os.Environ(), "GATEHOUSE_LISTEN="+addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stderr)
	deadline := time.After(15 * time.Second)
	found := make(chan bool, 1)
	go func() {
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") && strings.Contains(sc.Text(), addr) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatal("serve ended without listening on GATEHOUSE_LISTEN")
		}
	case <-deadline:
		t.Fatal("no listening line within 15 s")
	}
}
