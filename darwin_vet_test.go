package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// cgoFreePackages must build for macOS without cgo: everything but the Fyne
// packages (their widgets need cgo on macOS). A package that starts to need
// cgo drops out of `make vet-darwin`, so the test names them.
var cgoFreePackages = []string{
	"github.com/gatehouse/gatehouse/proxy",
	"github.com/gatehouse/gatehouse/proxy/codec",
	"github.com/gatehouse/gatehouse/proxy/config",
	"github.com/gatehouse/gatehouse/proxy/sse",
	"github.com/gatehouse/gatehouse/store",
	"github.com/gatehouse/gatehouse/ui/cli",
}

// TestCgoFreeForDarwin checks that `make vet-darwin` (GOOS=darwin go vet of
// every package that builds for macOS without cgo, run by make test) still
// covers the packages above: the macOS code cannot run here, but it is
// compiled and checked. The vet itself compiles every dependency for darwin,
// minutes on a cold cache, so it is a make step, not part of this test.
func TestCgoFreeForDarwin(t *testing.T) {
	list := exec.Command("go", "list", "-e", "-tags", buildTags,
		"-f", `{{$f := false}}{{range .Deps}}{{if eq . "fyne.io/fyne/v2"}}{{$f = true}}{{end}}{{end}}{{if not (or .Error .DepsErrors $f)}}{{.ImportPath}}{{end}}`, "./...")
	list.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0")
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
}
