package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// cgoFreePackages must build for macOS without cgo: everything but the Fyne
// driver. A package that starts to need cgo drops out of the vet below, so the
// test names them.
var cgoFreePackages = []string{
	"github.com/gatehouse/gatehouse/proxy",
	"github.com/gatehouse/gatehouse/proxy/codec",
	"github.com/gatehouse/gatehouse/proxy/config",
	"github.com/gatehouse/gatehouse/proxy/sse",
	"github.com/gatehouse/gatehouse/store",
}

// TestVetDarwin runs go vet with GOOS=darwin on every package that builds for
// macOS without cgo: the macOS code (keychain, LaunchAgent, paths) cannot run
// here, but it is compiled and checked.
func TestVetDarwin(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles for darwin")
	}
	env := append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0")
	list := exec.Command("go", "list", "-e", "-tags", buildTags,
		"-f", "{{if and (not .Error) (not .DepsErrors)}}{{.ImportPath}}{{end}}", "./...")
	list.Env = env
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list for darwin: %v", err)
	}
	pkgs := strings.Fields(string(out))
	for _, want := range cgoFreePackages {
		if !slices.Contains(pkgs, want) {
			t.Errorf("%s no longer builds for darwin without cgo (go list: %q)", want, pkgs)
		}
	}
	vet := exec.Command("go", append([]string{"vet", "-tags", buildTags}, pkgs...)...)
	vet.Env = env
	if out, err := vet.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=darwin go vet %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
}
