package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// The Windows smoke test runs the real gatehouse.exe under Wine: cross-built
// with mingw as `make package` builds it (GUI subsystem), against a fake
// upstream on 127.0.0.1. It needs wine, wine64 and gcc-mingw-w64-x86-64 and
// runs only with GATEHOUSE_WINDOWS_SMOKE=1 (.ci/windows-smoke installs them and
// sets it). Wine cannot prove the console behaviour of a GUI-subsystem program
// (it prints their output where Windows does not): that part is unit-tested.

// smokeKey is the provider key the smoke test stores in Wine's Credential Manager.
const smokeKey = "sk-smoke-7d2e41c9b05a83f6e1d4c7b2a9085f3e"

// prngSource is a stand-in bcryptprimitives.dll. Go >= 1.22 gets its random
// bytes from ProcessPrng in bcryptprimitives.dll, which every Windows since 10
// has and Debian 12's Wine 8.0 lacks (the .exe dies at start with
// "bcryptprimitives.dll not found"): a Wine gap, not a Windows one. It forwards
// to SystemFunction036 (RtlGenRandom), which Wine has.
const prngSource = `#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n)) return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
`

// holderSource opens argv[1] the way Go's os.Open and antivirus scanners do
// on Windows (sharing read and write, not delete), says "held", and keeps it
// open until a file matching argv[2] (the save's temp file) appears, and half a
// second longer: the save's rename is refused meanwhile (Wine refuses it as
// Windows does, "Access denied"). It gives up after 20 s.
const holderSource = `#include <windows.h>
#include <stdio.h>
int main(int argc, char **argv) {
	if (argc != 3) return 2;
	HANDLE h = CreateFileA(argv[1], GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		fprintf(stderr, "open %s: error %lu\n", argv[1], GetLastError());
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	int seen = 0;
	for (int i = 0; i < 400 && !seen; i++) {
		WIN32_FIND_DATAA fd;
		HANDLE f = FindFirstFileA(argv[2], &fd);
		if (f != INVALID_HANDLE_VALUE) {
			FindClose(f);
			seen = 1;
		} else {
			Sleep(50);
		}
	}
	Sleep(500);
	CloseHandle(h);
	printf(seen ? "released after the save tried\n" : "released, no save seen\n");
	return 0;
}
`

// wine runs Windows programs in a private Wine prefix.
type wine struct {
	prefix string
	env    []string
}

// winPath is the Windows path of a host path (Wine maps Z: to /).
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

func newWine(t *testing.T, dir string) *wine {
	t.Helper()
	w := &wine{prefix: filepath.Join(dir, "prefix")}
	w.env = append(os.Environ(), "WINEPREFIX="+w.prefix, "WINEDEBUG=-all", "WINEARCH=win64",
		// No Mono or Gecko installer dialogs on the first start.
		"WINEDLLOVERRIDES=mscoree,mshtml=", "DISPLAY=")
	t.Cleanup(func() {
		c := exec.Command("wineserver", "-k")
		c.Env = w.env
		_ = c.Run()
	})
	start := time.Now()
	if out, err := w.command("wineboot", "--init").CombinedOutput(); err != nil {
		t.Fatalf("wineboot: %v\n%s", err, out)
	}
	c := exec.Command("wineserver", "-w")
	c.Env = w.env
	_ = c.Run()
	t.Logf("wine prefix ready in %s", time.Since(start).Round(time.Second))
	return w
}

func (w *wine) command(prog string, args ...string) *exec.Cmd {
	c := exec.Command("wine", append([]string{prog}, args...)...)
	c.Env = w.env
	return c
}

// mingw compiles C source into out (a .exe, or a .dll with -shared).
func mingw(t *testing.T, out, src string, flags ...string) {
	t.Helper()
	c := out + ".c"
	if err := os.WriteFile(c, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-O2", "-o", out, c}, flags...)
	if b, err := exec.Command("x86_64-w64-mingw32-gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("x86_64-w64-mingw32-gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// buildExe cross-builds gatehouse.exe as .ci/package does: cgo with mingw, GUI
// subsystem, version and commit stamped.
func buildExe(t *testing.T, out string) {
	t.Helper()
	start := time.Now()
	c := exec.Command("nice", "-n", "19", "go", "build", "-tags", buildTags,
		"-ldflags", "-H=windowsgui -X main.version=0.1.0 -X main.commit=smoketest", "-o", out, ".")
	c.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=1", "CC=x86_64-w64-mingw32-gcc")
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("cross-build gatehouse.exe: %v\n%s", err, b)
	}
	t.Logf("gatehouse.exe built in %s", time.Since(start).Round(time.Second))
}

// flakyUpstream is an OpenAI-format upstream that fails every odd call with a
// 502 and answers every even one with the recorded response fixture.
type flakyUpstream struct {
	addr  string
	mu    sync.Mutex
	calls int
	auth  []string
}

func startFlakyUpstream(t *testing.T) *flakyUpstream {
	t.Helper()
	resp, err := os.ReadFile(filepath.Join("testdata", "history", "response_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	up := &flakyUpstream{}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		up.mu.Lock()
		up.calls++
		n := up.calls
		up.auth = append(up.auth, string(ctx.Request.Header.Peek("Authorization")))
		up.mu.Unlock()
		ctx.SetContentType("application/json")
		if n%2 == 1 {
			ctx.SetStatusCode(fasthttp.StatusBadGateway)
			ctx.SetBodyString(`{"error":{"message":"upstream hiccup","type":"server_error"}}`)
			return
		}
		ctx.SetBody(resp)
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { _ = srv.Shutdown() })
	up.addr = ln.Addr().String()
	return up
}

func (u *flakyUpstream) seen() (int, []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls, append([]string(nil), u.auth...)
}

// run runs gatehouse.exe ARGS under Wine with stdin and returns its output.
func (w *wine) run(t *testing.T, exe, stdin string, args ...string) (string, error) {
	t.Helper()
	c := w.command(exe, args...)
	c.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	done := make(chan error, 1)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(2 * time.Minute):
		_ = c.Process.Kill()
		<-done
		t.Fatalf("gatehouse.exe %s did not finish within 2 minutes\n%s", strings.Join(args, " "), out.String())
		return "", nil
	}
}

func TestWindowsSmoke(t *testing.T) {
	if os.Getenv("GATEHOUSE_WINDOWS_SMOKE") != "1" {
		t.Skip("runs gatehouse.exe under Wine: .ci/windows-smoke (GATEHOUSE_WINDOWS_SMOKE=1)")
	}
	for _, tool := range []string{"wine", "wineserver", "x86_64-w64-mingw32-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: .ci/windows-smoke installs it (%v)", tool, err)
		}
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "gatehouse.exe")
	buildExe(t, exe)
	w := newWine(t, dir)
	sys32 := filepath.Join(w.prefix, "drive_c", "windows", "system32")
	mingw(t, filepath.Join(sys32, "bcryptprimitives.dll"), prngSource, "-shared", "-ladvapi32")
	holder := filepath.Join(dir, "holder.exe")
	mingw(t, holder, holderSource)

	out, err := w.run(t, exe, "", "version")
	if err != nil || !strings.Contains(out, "gatehouse 0.1.0+smoketest") {
		t.Fatalf("gatehouse.exe version = %q, %v; want the stamped version and commit", out, err)
	}

	up := startFlakyUpstream(t)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`listen = %q

[retry]
attempts = 2
base_delay = "1ms"
max_delay = "5ms"

[[provider]]
name = "openai"
models = []

[[provider]]
name = "anthropic"
models = []

[[provider]]
name = "gemini"
models = []

[[provider]]
name = "up"
format = "openai"
base_url = "http://%s/v1"
models = ["gpt-*"]
`, addr, up.addr)
	cfgPath := filepath.Join(data, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	wdata := winPath(data)

	// keys set/list go through Wine's Credential Manager.
	if out, err := w.run(t, exe, smokeKey+"\n", "keys", "set", "up", "--data", wdata); err != nil {
		t.Fatalf("keys set: %v\n%s", err, out)
	}
	out, err = w.run(t, exe, "", "keys", "list", "--json", "--data", wdata)
	if err != nil || !strings.Contains(out, `"provider":"up","source":"keychain"`) {
		t.Fatalf("keys list --json = %q, %v; want up's key in the keychain", out, err)
	}
	if strings.Contains(out, smokeKey) {
		t.Fatalf("keys list shows the key: %s", out)
	}

	serveOut := &syncBuffer{}
	serve := w.command(exe, "serve", "--data", wdata)
	serve.Stdout, serve.Stderr = serveOut, serveOut
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- serve.Wait() }()
	t.Cleanup(func() {
		_ = serve.Process.Kill()
		<-served
	})
	base := "http://" + addr
	waitHealthy(t, base, served, serveOut)

	// A call through the proxy: the upstream's first answer is a 502, the retry succeeds.
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hello from Wine"}]}`
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	_, _ = got.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("chat through gatehouse.exe: status %d\n%s\nserve log:\n%s", resp.StatusCode, got.String(), serveOut)
	}
	calls, auth := up.seen()
	if calls != 2 {
		t.Fatalf("upstream got %d calls; want 2 (a 502, then the retry)", calls)
	}
	for _, a := range auth {
		if a != "Bearer "+smokeKey {
			t.Fatalf("upstream got Authorization %q; want the key from the Credential Manager", a)
		}
	}

	out, err = w.run(t, exe, "", "history", "--json", "--data", wdata)
	if err != nil {
		t.Fatalf("history --json: %v\n%s", err, out)
	}
	var rec struct {
		Outcome  string
		Status   int
		Attempts []struct{ Status int }
	}
	if err := json.Unmarshal([]byte(firstJSONLine(out)), &rec); err != nil {
		t.Fatalf("history --json: %v\n%s", err, out)
	}
	if rec.Outcome != "ok" || rec.Status != 200 || len(rec.Attempts) != 2 || rec.Attempts[0].Status != 502 {
		t.Fatalf("history --json = %+v; want ok, 200, attempts 502 then 200\n%s", rec, out)
	}

	saveWhileHeld(t, w, exe, holder, wdata, cfgPath, serveOut)
}

// saveWhileHeld changes the config while another program holds config.toml
// open, as an antivirus scanner or the config watcher of a running instance
// does: the save must wait for the handle to close, not fail with "Access
// denied", and the running instance must pick the change up.
func saveWhileHeld(t *testing.T, w *wine, exe, holder, wdata, cfgPath string, serveOut *syncBuffer) {
	t.Helper()
	holdOut := &syncBuffer{}
	hold := w.command(holder, winPath(cfgPath), winPath(filepath.Join(filepath.Dir(cfgPath), ".config.toml.*")))
	hold.Stdout, hold.Stderr = holdOut, holdOut
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	held := make(chan error, 1)
	go func() { held <- hold.Wait() }()
	defer func() { _ = hold.Process.Kill(); <-held }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(holdOut.String(), "held") {
		if time.Now().After(deadline) {
			t.Fatalf("holder did not open config.toml: %s", holdOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := w.run(t, exe, "", "providers", "add", "extra", "--format", "openai",
		"--base-url", "http://127.0.0.1:9/v1", "--models", "extra-*", "--data", wdata)
	if err != nil {
		t.Fatalf("providers add while config.toml is held open: %v\n%s\nholder: %s", err, out, holdOut)
	}
	select {
	case <-held:
		held <- nil // for the deferred wait
	case <-time.After(30 * time.Second):
		t.Fatalf("holder did not finish: %s", holdOut)
	}
	if !strings.Contains(holdOut.String(), "released after the save tried") {
		t.Fatalf("the save did not run while config.toml was held, so it proves nothing: %s", holdOut)
	}
	src, err := os.ReadFile(cfgPath)
	if err != nil || !strings.Contains(string(src), `name = "extra"`) {
		t.Fatalf("config.toml after providers add: %v\n%s", err, src)
	}
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(serveOut.String(), "config reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("the running instance did not reload the saved config within 30 s\n%s", serveOut)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitHealthy waits until gatehouse.exe serve answers /_gatehouse/health.
func waitHealthy(t *testing.T, base string, served chan error, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second) // Wine's first start of a program is slow
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/_gatehouse/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-served:
			t.Fatalf("gatehouse.exe serve exited: %v\n%s", err, log)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("gatehouse.exe serve did not answer within 90 s\n%s", log)
}

// firstJSONLine is the first line of out that starts with "{".
func firstJSONLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "{") {
			return l
		}
	}
	return ""
}
