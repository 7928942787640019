package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// appProcess is the desktop app binary running as a user would start it.
type appProcess struct {
	cmd    *exec.Cmd
	stderr syncBuffer
	exited chan struct{} // closed once the process has ended
	err    error         // Wait's result, once exited is closed
}

// pid is the app's process id.
func (p *appProcess) pid() int { return p.cmd.Process.Pid }

// startApp runs `gatehouse [args] --data dir --listen 127.0.0.1:0` with LANG
// set and env added, waits until it advertises its address and returns it
// with its base URL. The test's end stops it (SIGTERM, then kill after 15 s).
func startApp(t *testing.T, dir string, env []string, args ...string) (*appProcess, string) {
	t.Helper()
	p := &appProcess{exited: make(chan struct{})}
	p.cmd = exec.Command(testBinary(t), append(args, "--data", dir, "--listen", "127.0.0.1:0")...)
	p.cmd.Env = append(append(os.Environ(), "LANG=en_US.UTF-8"), env...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p, waitInstance(t, dir, &p.stderr)
}
