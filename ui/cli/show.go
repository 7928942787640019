package cli

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// ShowRunning asks an instance already running with dataDir to show its window.
// done reports whether one answered; err says why it could not show a window
// (it is `gatehouse serve`, or it did not answer).
func ShowRunning(dataDir string, stdout io.Writer) (done bool, err error) {
	c, ok := FindRunning(dataDir)
	if !ok {
		return false, nil
	}
	status, body, err := c.Do(http.MethodPost, "app/show", nil)
	for i := 0; i < 50 && err == nil && status == http.StatusServiceUnavailable; i++ {
		time.Sleep(200 * time.Millisecond) // its window is being built
		status, body, err = c.Do(http.MethodPost, "app/show", nil)
	}
	switch {
	case err != nil:
		return true, fmt.Errorf("already running with data folder %s, but it did not answer: %w", dataDir, err)
	case status == http.StatusOK:
		fmt.Fprintf(stdout, "Gatehouse is already running with data folder %s: its window was brought forward.\n", dataDir)
		return true, nil
	case status == http.StatusNotFound:
		return true, fmt.Errorf("`gatehouse serve` is already running with data folder %s (it has no window); stop it first, or use another --data folder", dataDir)
	}
	return true, fmt.Errorf("already running with data folder %s; it answered %d: %s", dataDir, status, body)
}
