package ui

import (
	"os"
	"runtime/debug"
	"time"
)

// TrimMemory keeps an idle app small: a tighter GC target (unless GOGC is
// set), and the garbage handed back to the OS (Go's free pages, and what the C
// side, the GL driver and GLFW, freed into malloc's arenas) once start-up has
// settled, every 30 s after that, and soon after the window was closed to the
// tray (a kick on closed). It returns when done is closed.
func TrimMemory(done <-chan struct{}, closed <-chan struct{}) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-closed:
			// The window's GL context goes on the UI loop's next ticks.
			timer.Reset(2 * time.Second)
			continue
		case <-timer.C:
		}
		debug.FreeOSMemory()
		trimCHeap()
		ReleaseImagePages()
		timer.Reset(30 * time.Second)
	}
}
