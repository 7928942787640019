// Command gatehouse is a local LLM proxy with a desktop tray app: tools point at
// http://127.0.0.1:8765, and Gatehouse injects provider keys from the OS keychain,
// translates between provider formats, retries flaky upstreams and records every
// call.
//
// Usage:
//
//	gatehouse                 desktop app: tray + window + proxy
//	gatehouse serve           proxy only, no GUI, logs to stderr
//	gatehouse history ...     browse recorded calls
//	gatehouse keys ...        manage provider keys in the OS keychain
//	gatehouse providers ...   list, add and remove providers
//	gatehouse version
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// version and commit are set at build time (Makefile, .ci/package) with
// -ldflags "-X main.version=0.1.0 -X main.commit=32a75a1". init joins them into
// one SemVer string with the commit as build metadata ("0.1.0+32a75a1"), so
// `gatehouse version`, /_gatehouse/health, instance.json and the User-Agent all
// name the commit an artifact was built from.
var (
	version = "0.1.0-dev"
	commit  = ""
)

func init() {
	bi, _ := debug.ReadBuildInfo()
	version = stampVersion(version, commit, bi)
}

// stampVersion appends the commit to v as SemVer build metadata. Without a
// stamped commit it uses the revision `go build` records from git (absent under
// go test and go run, and when built outside a checkout), marked ".dirty" for
// uncommitted changes.
func stampVersion(v, commit string, bi *debug.BuildInfo) string {
	if commit == "" && bi != nil {
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value[:min(len(s.Value), 12)]
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if commit != "" && modified {
			commit += ".dirty"
		}
	}
	if commit == "" || strings.Contains(v, "+") {
		return v
	}
	return v + "+" + commit
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runApp(args, stdout, stderr)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(rest, stdout, stderr)
	case "history":
		return runHistory(rest, stdout, stderr)
	case "keys":
		return runKeys(rest, stdin, stdout, stderr)
	case "providers":
		return runProviders(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "gatehouse %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n%s", cmd, usage)
	return 2
}

const usage = `Usage:
  gatehouse [--listen ADDR] [--data DIR] [--config FILE] [--hidden]   desktop app (tray + window + proxy)
  gatehouse serve [--listen ADDR] [--data DIR] [--config FILE] [--allow-remote]
  gatehouse history [--failed] [--outcome O] [--provider P] [--model M] [--since 1h] [--search TEXT] [--limit N] [--json]
  gatehouse history show ID [--json]
  gatehouse history export [--since DUR] [--failed]
  gatehouse history prune
  gatehouse keys set NAME [--field F]      (secret read from stdin)
  gatehouse keys list [--json]
  gatehouse keys delete NAME
  gatehouse keys test NAME
  gatehouse providers [--json]
  gatehouse providers add NAME --format F --base-url URL [--models GLOB,...] [--key-env VAR]
  gatehouse providers remove NAME
  gatehouse version

Every command takes --data DIR (env GATEHOUSE_DATA) and --config FILE.
`
