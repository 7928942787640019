// Package cli is Gatehouse's terminal interface: the keys, providers, history
// and version commands, their flags, the one way they print errors, and the
// admin protocol a running instance serves (/_gatehouse/api/) and the commands
// use to reach it. It never imports Fyne, so it builds and tests without cgo.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Usage lists every command; `gatehouse --help` prints it.
const Usage = `Usage:
  gatehouse [--listen ADDR] [--data DIR] [--config FILE] [--hidden]   desktop app (tray + window + proxy)
  gatehouse serve [--listen ADDR] [--data DIR] [--config FILE] [--allow-remote]
  gatehouse history [--failed] [--outcome O] [--provider P] [--model M] [--since 1h] [--search TEXT] [--limit N] [--json]
  gatehouse history show ID [--json]
  gatehouse history export [--since DUR] [--failed]
  gatehouse history prune
  gatehouse stats [--since 7d | --from T --to T] [--by provider|model|client|day|hour|status] [--json]
  gatehouse keys set NAME [--field F]      (secret read from stdin)
  gatehouse keys list [--json]
  gatehouse keys delete NAME
  gatehouse keys test NAME
  gatehouse providers [--json]
  gatehouse doctor [PROVIDER | PROVIDER/MODEL | MODEL] [--json]
  gatehouse providers add NAME --format F --base-url URL [--models GLOB,...] [--key-env VAR]
  gatehouse providers remove NAME
  gatehouse clients add NAME [--models GLOB,...] [--providers P,...] [--daily-tokens N] [--daily-usd X] [--expires 30d]
  gatehouse clients list [--json] | remove NAME | rotate NAME
  gatehouse prompts list [--json]
  gatehouse prompt run NAME [--var k=v ...] [--stream] [--token gh_...]
  gatehouse version

Every command takes --data DIR (env GATEHOUSE_DATA) and --config FILE.
`

// IsHelp reports whether arg asks for the usage.
func IsHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help" || arg == "-help"
}

// Run runs one terminal command (keys, providers, history, version, help) and
// returns the process exit code; version is the build's version.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, version string) int {
	if len(args) == 0 || IsHelp(args[0]) {
		fmt.Fprint(stdout, Usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "history":
		err = runHistory(rest, stdout, stderr)
	case "stats":
		err = runStats(rest, stdout, stderr)
	case "keys":
		err = runKeys(rest, stdin, stdout, stderr, version)
	case "providers":
		err = runProviders(rest, stdout, stderr)
	case "clients":
		err = runClients(rest, stdout, stderr)
	case "prompts", "prompt":
		err = runPrompts(cmd, rest, stdout, stderr)
	case "doctor":
		err = runDoctor(rest, stdout, stderr, version)
	case "version", "--version":
		fmt.Fprintf(stdout, "gatehouse %s\n", version)
		return 0
	default:
		err = UsageError{Msg: fmt.Sprintf("unknown command %q", cmd), Usage: Usage}
		cmd = ""
	}
	return Exit(stderr, cmd, err)
}

// UsageError is a command-line mistake: exit code 2. An empty Msg prints
// nothing (the flag package has said what was wrong); Usage, when set, follows.
type UsageError struct{ Msg, Usage string }

func (e UsageError) Error() string { return e.Msg }

// Exit is the one error printer of the command line: it writes
// "gatehouse CMD: err" on stderr (the usage after a UsageError) and returns the
// exit code: 0 for nil, 2 for a UsageError, 1 otherwise.
func Exit(stderr io.Writer, cmd string, err error) int {
	if err == nil {
		return 0
	}
	var ue UsageError
	if errors.As(err, &ue) {
		if ue.Msg != "" {
			fmt.Fprintf(stderr, "%s: %s\n", prefix(cmd), ue.Msg)
		}
		if ue.Usage != "" {
			if ue.Msg != "" {
				fmt.Fprintln(stderr)
			}
			fmt.Fprint(stderr, ue.Usage)
		}
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", prefix(cmd), err)
	return 1
}

// Warn writes a note that does not stop the command, in Exit's style.
func Warn(stderr io.Writer, cmd, format string, args ...any) {
	fmt.Fprintf(stderr, "%s: %s\n", prefix(cmd), fmt.Sprintf(format, args...))
}

func prefix(cmd string) string { return strings.TrimSpace("gatehouse " + cmd) }
