// Package assets holds Gatehouse's icons: the app icon and the tray icon in its
// three states (running, recent failures, paused), each drawn for light and dark
// panels. The PNGs are drawn by gen_icons.go and embedded into the binary.
package assets

//go:generate go run gen_icons.go

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

// TrayState is what the tray icon shows.
type TrayState int

// The tray states.
const (
	TrayRunning  TrayState = iota // the proxy runs and recent calls went well
	TrayFailures                  // some call failed in the last 5 minutes
	TrayPaused                    // the proxy answers every call with 503
)

var (
	//go:embed icon.png
	iconPNG []byte

	//go:embed tray-running-light.png
	trayRunningLight []byte
	//go:embed tray-running-dark.png
	trayRunningDark []byte
	//go:embed tray-failures-light.png
	trayFailuresLight []byte
	//go:embed tray-failures-dark.png
	trayFailuresDark []byte
	//go:embed tray-paused-light.png
	trayPausedLight []byte
	//go:embed tray-paused-dark.png
	trayPausedDark []byte
)

// Icon is the application icon (512×512 PNG).
var Icon = fyne.NewStaticResource("gatehouse.png", iconPNG)

var trayIcons = map[bool][3]fyne.Resource{
	false: {
		fyne.NewStaticResource("tray-running-light.png", trayRunningLight),
		fyne.NewStaticResource("tray-failures-light.png", trayFailuresLight),
		fyne.NewStaticResource("tray-paused-light.png", trayPausedLight),
	},
	true: {
		fyne.NewStaticResource("tray-running-dark.png", trayRunningDark),
		fyne.NewStaticResource("tray-failures-dark.png", trayFailuresDark),
		fyne.NewStaticResource("tray-paused-dark.png", trayPausedDark),
	},
}

// Tray returns the tray icon for state, drawn for a dark panel (light glyph) when
// darkPanel is true and for a light panel otherwise.
func Tray(state TrayState, darkPanel bool) fyne.Resource {
	if state < TrayRunning || state > TrayPaused {
		state = TrayRunning
	}
	return trayIcons[darkPanel][state]
}
