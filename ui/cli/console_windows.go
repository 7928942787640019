package cli

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// The packaged gatehouse.exe is a GUI-subsystem program (fyne package links it
// with -H=windowsgui), so Windows gives it no console: started from the Start
// menu or at login that is right, but typed in cmd or PowerShell it printed
// nothing (issue 18). AttachConsole borrows the console it was typed in, for
// output. The shell does not wait for a GUI program and keeps reading the
// console itself, so such a gatehouse.exe cannot read input: gatehouse-cli.exe,
// the console build of the same program, is the one for the command line.

var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

// attachParentProcess is ATTACH_PARENT_PROCESS, (DWORD)-1.
const attachParentProcess = ^uint32(0)

// borrowedConsole is true once AttachConsole attached to the parent's console.
var borrowedConsole bool

// AttachConsole gives a GUI-subsystem build the console of the shell it was
// typed in, for stdout and stderr: only those without a handle (a console build,
// or output redirected to a file or pipe, keeps its own), and only when the
// parent has a console (the Start menu, Explorer and login do not: no console
// window appears). It does nothing for a console build.
func AttachConsole() {
	if hasHandle(windows.STD_OUTPUT_HANDLE) && hasHandle(windows.STD_ERROR_HANDLE) {
		return
	}
	if r, _, _ := procAttachConsole.Call(uintptr(attachParentProcess)); r == 0 {
		return
	}
	out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	borrowedConsole = true
	if !hasHandle(windows.STD_OUTPUT_HANDLE) {
		_ = windows.SetStdHandle(windows.STD_OUTPUT_HANDLE, windows.Handle(out.Fd()))
		os.Stdout = out
	}
	if !hasHandle(windows.STD_ERROR_HANDLE) {
		_ = windows.SetStdHandle(windows.STD_ERROR_HANDLE, windows.Handle(out.Fd()))
		os.Stderr = out
	}
	// The shell has printed its next prompt already: start on a line of our own.
	fmt.Fprintln(out)
}

func hasHandle(std uint32) bool {
	h, err := windows.GetStdHandle(std)
	return err == nil && h != 0 && h != windows.InvalidHandle
}

// noConsoleInput explains, when this process borrowed its console and has no
// stdin of its own, why it cannot read a secret: the shell reads the console
// too. "" when stdin is usable.
func noConsoleInput() string {
	if !borrowedConsole || hasHandle(windows.STD_INPUT_HANDLE) {
		return ""
	}
	return "gatehouse.exe is the desktop build: Windows does not wait for it, and the shell keeps reading what you type; " +
		"run gatehouse-cli.exe keys set instead, or pipe the key in"
}
