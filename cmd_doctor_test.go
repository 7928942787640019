package main

import (
	"strings"
	"testing"
)

// TestDoctorUsesTheRunningInstance: with serve running, `gatehouse doctor` is
// answered by it, so the key only that instance has is the one checked; with
// it stopped, the command checks by itself and names the missing key.
func TestDoctorUsesTheRunningInstance(t *testing.T) {
	up := startUpstream(t, "sk-instance-only-0001")
	data := t.TempDir()
	writeTestConfig(t, data, up)
	env := baseEnv(t) // no GATEHOUSE_TEST_KEY, no keychain: only the instance has the key
	p := startServeEnv(t, data, append(baseEnv(t), "GATEHOUSE_TEST_KEY=sk-instance-only-0001"))

	code, out, errOut := gatehouseProc(t, env, "", "doctor", "gpt-4o", "--data", data)
	if code != 1 || !strings.Contains(out, "verdict: up (gpt-4o): model fails: gpt-4o is not among the 1 models up lists") ||
		!strings.Contains(out, "OK    authentication  the provider accepted the key") || !strings.Contains(errOut, "1 of 1 checked providers fail") {
		t.Fatalf("doctor gpt-4o through the instance: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = gatehouseProc(t, env, "", "doctor", "up/m1", "--data", data, "--json")
	if code != 0 || !strings.Contains(out, `"verdict":"up (m1): every check passed"`) {
		t.Fatalf("doctor up/m1 --json through the instance: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "sk-instance-only-0001") {
		t.Fatalf("doctor printed the key:\n%s%s", out, errOut)
	}

	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = gatehouseProc(t, env, "", "doctor", "up", "--data", data)
	if code != 1 || !strings.Contains(out, "verdict: up: configuration fails:") || !strings.Contains(out, "no key") ||
		!strings.Contains(out, "Fix: run `gatehouse keys set up`") || !strings.Contains(out, "set GATEHOUSE_TEST_KEY") {
		t.Fatalf("doctor up without the instance: exit %d\n%s\n%s", code, out, errOut)
	}
}
