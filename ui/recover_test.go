package ui

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestGuardRecoversAndLogs(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	ran := false
	guard("test", func() { ran = true; panic("injected panic in a UI callback") })()
	if !ran || !strings.Contains(buf.String(), "injected panic in a UI callback") || !strings.Contains(buf.String(), "goroutine") {
		t.Errorf("ran %v; log:\n%s", ran, buf.String())
	}
}
