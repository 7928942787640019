package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A command-line tool prints no framework noise: with the locale of containers,
// CI and many SSH sessions, Fyne (linked into the one binary) used to print
// "Fyne error: Error parsing user locale C" three times on every command.
func TestNoFyneLocaleNoise(t *testing.T) {
	data := t.TempDir()
	for _, lang := range []string{"C.UTF-8", "C", "POSIX"} {
		env := append(os.Environ(), "LANG="+lang, "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
		for _, args := range [][]string{{"version"}, {"--help"}, {"history", "--data", data}, {"providers", "--data", data, "--json"}} {
			t.Run(lang+" "+strings.Join(args, " "), func(t *testing.T) {
				bin := testBinary(t) // built before the clock starts
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, args...)
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if err != nil || strings.Contains(string(out), "Fyne error") {
					t.Fatalf("gatehouse %s with LANG=%s: %v\n%s", strings.Join(args, " "), lang, err, out)
				}
			})
		}
		t.Run(lang+" serve", func(t *testing.T) {
			p := startServe(t, t.TempDir(), env[len(env)-4:]...)
			if err := p.stop(t); err != nil {
				t.Fatalf("serve: %v", err)
			}
			if strings.Contains(p.stderr.String(), "Fyne error") {
				t.Fatalf("serve with LANG=%s logged Fyne noise:\n%s", lang, p.stderr)
			}
		})
	}
}

// `gatehouse --help` lists the commands, not only the desktop app's flags.
func TestHelpListsCommands(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		code, out, errOut := gatehouse(t, "", arg)
		if code != 0 {
			t.Fatalf("gatehouse %s: exit %d, stderr %q", arg, code, errOut)
		}
		for _, cmd := range []string{"gatehouse serve", "gatehouse history", "gatehouse keys set", "gatehouse providers add", "gatehouse version"} {
			if !strings.Contains(out, cmd) {
				t.Errorf("gatehouse %s does not list %q:\n%s", arg, cmd, out)
			}
		}
	}
	// A bad flag of the desktop app shows the commands too.
	code, _, errOut := gatehouse(t, "", "--no-such-flag")
	if code != 2 || !strings.Contains(errOut, "gatehouse serve") || !strings.Contains(errOut, "-hidden") {
		t.Errorf("gatehouse --no-such-flag: exit %d, stderr %q; want 2 with the commands and the app's flags", code, errOut)
	}
}
