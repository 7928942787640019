package main

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestStampVersion(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	const rev = "32a75a1d0e3f9b8c7a6b5c4d3e2f1a0b9c8d7e6f"
	tests := []struct {
		name, version, commit string
		bi                    *debug.BuildInfo
		want                  string
	}{
		{"ldflags commit wins", "0.1.0", "abc1234", vcs(rev, "false"), "0.1.0+abc1234"},
		{"vcs revision", "0.1.0", "", vcs(rev, "false"), "0.1.0+32a75a1d0e3f"},
		{"vcs dirty", "0.1.0", "", vcs(rev, "true"), "0.1.0+32a75a1d0e3f.dirty"},
		{"no vcs (go test, tarball)", "0.1.0-dev", "", &debug.BuildInfo{}, "0.1.0-dev"},
		{"no build info", "0.1.0-dev", "", nil, "0.1.0-dev"},
		{"already carries metadata", "0.1.0+abc", "def", nil, "0.1.0+abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stampVersion(tt.version, tt.commit, tt.bi); got != tt.want {
				t.Errorf("stampVersion(%q, %q) = %q, want %q", tt.version, tt.commit, got, tt.want)
			}
		})
	}
}

// TestVersionNamesCommit checks what a user sees: a binary built from this
// checkout with plain `go build` names the commit it was built from.
func TestVersionNamesCommit(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	out, err := exec.Command(testBinary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("gatehouse version: %v\n%s", err, out)
	}
	want := "gatehouse " + version + "+" + strings.TrimSpace(string(head))
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, want) {
		t.Errorf("gatehouse version = %q, want it to start with %q", got, want)
	}
}
