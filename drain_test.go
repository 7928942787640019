package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// Windows ends a process about 5 s after closing its console, logoff or
// shutdown (all SIGTERM in Go): the drain must fit in that.
func TestDrainTime(t *testing.T) {
	tests := []struct {
		goos string
		sig  os.Signal
		want time.Duration
	}{
		{"windows", syscall.SIGTERM, 3 * time.Second},
		{"windows", os.Interrupt, 10 * time.Second},
		{"linux", syscall.SIGTERM, 10 * time.Second},
		{"darwin", syscall.SIGTERM, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := drainTime(tt.goos, tt.sig); got != tt.want {
			t.Errorf("drainTime(%s, %v) = %s, want %s", tt.goos, tt.sig, got, tt.want)
		}
	}
	if windowsEndGrace >= 5*time.Second {
		t.Errorf("windowsEndGrace %s leaves no time to flush the history before Windows ends the process", windowsEndGrace)
	}
}
