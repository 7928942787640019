package config

import (
	"errors"
	"testing"
	"time"
)

func TestRetryRename(t *testing.T) {
	errHeld := errors.New("The process cannot access the file because it is being used by another process.")
	errOther := errors.New("The system cannot find the path specified.")
	held := func(err error) bool { return errors.Is(err, errHeld) }
	tests := []struct {
		name      string
		failures  []error // what the first renames return; then nil
		wantErr   error
		wantTries int
		maxSlept  time.Duration
	}{
		{"free file", nil, nil, 1, 0},
		{"held briefly", []error{errHeld, errHeld, errHeld}, nil, 4, 35 * time.Millisecond},
		{"other error is not retried", []error{errOther}, errOther, 1, 0},
		{"held for good: gives up after the bound", repeat(errHeld, 1000), errHeld, 0, replaceWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tries := 0
			rename := func(_, _ string) error {
				tries++
				if tries <= len(tt.failures) {
					return tt.failures[tries-1]
				}
				return nil
			}
			var slept time.Duration
			err := retryRename(rename, held, "tmp", "config.toml", replaceWait, func(d time.Duration) { slept += d })
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("retryRename = %v, want %v", err, tt.wantErr)
			}
			if tt.wantTries > 0 && tries != tt.wantTries {
				t.Errorf("renames tried = %d, want %d", tries, tt.wantTries)
			}
			if slept > tt.maxSlept {
				t.Errorf("slept %s, want at most %s", slept, tt.maxSlept)
			}
			if tt.maxSlept == replaceWait && (slept != replaceWait || tries > 30) {
				t.Errorf("held for good: slept %s in %d tries, want exactly %s in a bounded number of tries", slept, tries, replaceWait)
			}
		})
	}
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}
