// Package ui is Gatehouse's desktop app: the tray menu and the window (overview,
// providers, history, settings), built with Fyne on small interfaces that main
// plugs the proxy and the store into, and the desktop glue around them: the
// tray host check, start at login per OS, and handing idle memory back.
package ui
