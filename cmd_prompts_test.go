package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPromptCommands: `prompts list` names each prompt's variables, `prompt run`
// calls the running Gatehouse and prints the output (also as it streams) and
// the call, and a missing variable is named.
func TestPromptCommands(t *testing.T) {
	up := startUpstream(t, "")
	data := t.TempDir()
	writeUpstreamConfig(t, data, up.addr, `
[[prompt]]
name = "capital"
model = "gpt-4o"
system = "Answer in {{lang}}."
template = "What is the capital of {{input}}?"
`)
	bin := testBinary(t)
	out, err := exec.Command(bin, "prompts", "list", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "capital") || !strings.Contains(string(out), "lang, input") {
		t.Fatalf("prompts list: %v\n%s", err, out)
	}
	startServeWith(t, bin, data, freeAddr(t), testEnv())
	cmd := exec.Command(bin, "prompt", "run", "capital", "--data", data, "--var", "lang=English", "--var", "input=Australia")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(got)) != "The capital of Australia is Canberra." || !strings.Contains(stderr.String(), "27 tokens in, 8 out") {
		t.Fatalf("prompt run: %v\nstdout %q\nstderr %s", err, got, stderr.String())
	}
	if !strings.Contains(up.lastBody(), "What is the capital of Australia?") || !strings.Contains(up.lastBody(), "Answer in English.") {
		t.Errorf("upstream got %s", up.lastBody())
	}
	got, err = exec.Command(bin, "prompt", "run", "capital", "--data", data, "--var", "lang=English", "--var", "input=Australia", "--stream").Output()
	if err != nil || !strings.Contains(string(got), "Canberra") {
		t.Errorf("prompt run --stream: %v %q", err, got)
	}
	got, err = exec.Command(bin, "prompt", "run", "capital", "--data", data, "--var", "input=Australia").CombinedOutput()
	if err == nil || !strings.Contains(string(got), "400") || !strings.Contains(string(got), "missing variables: lang") {
		t.Errorf("missing variable: %v %s", err, got)
	}
}
