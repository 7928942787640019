//go:build !linux

package main

import (
	"log/slog"

	"github.com/gatehouse/gatehouse/ui"
)

// setUpTray puts the app in the tray; macOS and Windows always have one.
func setUpTray(a *ui.App, log *slog.Logger) { a.EnableTray(true) }
