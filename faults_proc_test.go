package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runFaultLoadProcess runs the fault load generator as a process and returns
// every call it sent.
func runFaultLoadProcess(tb testing.TB, spec faultLoadSpec) []faultCall {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), spec.env()...)
	var stderr syncBuffer // main_test.go
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("fault load generator against %s: %v\n%s", spec.Target, err, stderr.String())
	}
	var calls []faultCall
	if err := json.Unmarshal(out, &calls); err != nil {
		tb.Fatalf("fault load generator output: %v (%d bytes)", err, len(out))
	}
	return calls
}

// faultSockets counts TCP sockets by their state's name.
type faultSockets map[string]int

// open is the number of sockets that hold a connection: all but TIME_WAIT
// (the kernel's, no descriptor) and LISTEN.
func (s faultSockets) open() int {
	n := 0
	for st, c := range s {
		if st != "TIME_WAIT" && st != "LISTEN" {
			n += c
		}
	}
	return n
}

// faultTCPStates names /proc/net/tcp's state codes.
var faultTCPStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
	"06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}

// faultTCPRow is one IPv4 socket of /proc/net/tcp.
type faultTCPRow struct {
	localPort, remotePort int
	state, inode          string
}

// faultTCPTable reads /proc/net/tcp (the tests use 127.0.0.1 only).
func faultTCPTable(tb testing.TB) []faultTCPRow {
	tb.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	port := func(addr string) int {
		_, hex, _ := strings.Cut(addr, ":")
		p, _ := strconv.ParseInt(hex, 16, 32)
		return int(p)
	}
	var rows []faultTCPRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[0] == "sl" {
			continue
		}
		rows = append(rows, faultTCPRow{localPort: port(fields[1]), remotePort: port(fields[2]),
			state: faultTCPStates[fields[3]], inode: fields[9]})
	}
	return rows
}

// faultProcFDs returns a process's open descriptors and the inodes of its sockets.
func faultProcFDs(tb testing.TB, pid int) (fds int, sockets map[string]bool) {
	tb.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	sockets = map[string]bool{}
	for _, e := range entries {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			sockets[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return len(entries), sockets
}

// faultSample is what serve and the fault upstream hold at one moment.
type faultSample struct {
	FDs, Threads int
	// serve's sockets: to the fault upstream, to the spare, from clients
	ToFault, ToSpare, FromClients faultSockets
	// FaultSide is the fault upstream's own end of its connections.
	FaultSide faultSockets
}

func (s faultSample) String() string {
	return fmt.Sprintf("fds %d, threads %d; serve's sockets to the fault upstream %v, to the spare %v, from clients %v; fault upstream's side %v",
		s.FDs, s.Threads, s.ToFault, s.ToSpare, s.FromClients, s.FaultSide)
}

func takeFaultSample(tb testing.TB, pid int, servePort, faultPort, sparePort int) faultSample {
	tb.Helper()
	fds, mine := faultProcFDs(tb, pid)
	s := faultSample{FDs: fds, Threads: int(procStatusCount(pid, "Threads")),
		ToFault: faultSockets{}, ToSpare: faultSockets{}, FromClients: faultSockets{}, FaultSide: faultSockets{}}
	for _, r := range faultTCPTable(tb) {
		switch {
		case r.localPort == faultPort:
			s.FaultSide[r.state]++
		case !mine[r.inode] || r.inode == "0":
		case r.remotePort == faultPort:
			s.ToFault[r.state]++
		case r.remotePort == sparePort:
			s.ToSpare[r.state]++
		case r.localPort == servePort && r.state != "LISTEN":
			s.FromClients[r.state]++
		}
	}
	return s
}

// procStatusCount reads a plain count of /proc/PID/status (Threads).
func procStatusCount(pid int, field string) int64 {
	return procStatus(pid, field) >> 10 // procStatus reads kB figures
}

func faultPortOf(tb testing.TB, addr string) int {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// faultGoroutines ends serve with SIGQUIT, whose dump lists every goroutine,
// and groups the goroutines of its dump by where they wait: the
// function of their first frame outside the runtime, with their state.
func faultGoroutines(tb testing.TB, p *serveProcess) (total int, by map[string]int) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		tb.Fatal("serve did not exit on SIGQUIT")
	}
	p.done <- nil // for startServe's cleanup
	by = map[string]int{}
	for _, g := range faultGoroutineRE.FindAllStringSubmatch(p.stderr.String(), -1) {
		state, _, _ := strings.Cut(g[1], ",") // "IO wait, 2 minutes"
		by[state+" "+faultWaiter(g[2])]++
		total++
	}
	if total == 0 {
		tb.Fatalf("no goroutine dump in serve's output:\n%s", p.stderr.String())
	}
	return total, by
}

// faultWaiter names a goroutine by its first frame in this module or a
// dependency (the standard library's frames say little about who waits),
// else its first frame outside the runtime, else who created it.
func faultWaiter(frames string) string {
	var funcs []string
	created := ""
	for _, line := range strings.Split(frames, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "\t"):
		case strings.HasPrefix(line, "created by "):
			created, _, _ = strings.Cut(line, " in goroutine")
		default:
			if i := strings.LastIndexByte(line, '('); i > 0 {
				line = line[:i]
			}
			funcs = append(funcs, line)
		}
	}
	for _, f := range funcs {
		if first, _, _ := strings.Cut(f, "/"); strings.HasPrefix(f, "main.") || strings.Contains(first, ".") && strings.Contains(f, "/") {
			return f
		}
	}
	for _, f := range funcs {
		if !strings.HasPrefix(f, "runtime.") && !strings.HasPrefix(f, "internal/") {
			return f
		}
	}
	return created
}

// faultGoroutineRE matches one goroutine of a dump: its state and its frames.
var faultGoroutineRE = regexp.MustCompile(`(?m)^goroutine \d+[^\[\n]*\[([^\]]+)\]:\n((?:.+\n)+)`)

// faultPercentile is the p-quantile of sorted durations in µs.
func faultPercentile(sorted []int64, p float64) time.Duration {
	return time.Duration(sorted[int(p*float64(len(sorted)-1))]) * time.Microsecond
}

// faultDiff lists the groups that grew from before to after.
func faultDiff(before, after map[string]int) string {
	var out []string
	for k, n := range after {
		if n > before[k] {
			out = append(out, fmt.Sprintf("%+d %s", n-before[k], k))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}
