//go:build !linux

package ui

import (
	"log/slog"
)

// SetUpTray puts the app in the tray; macOS and Windows always have one.
func (a *App) SetUpTray(log *slog.Logger) { a.EnableTray(true) }
