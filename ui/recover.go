package ui

import (
	"log/slog"
	"runtime/debug"
)

// guard returns f wrapped so that a panic in it is logged with its stack
// instead of taking the app, and the proxy inside it, down (issue 19.8). UI
// callbacks run history records and upstream data through code that must
// never crash the tray.
func guard(where string, f func()) func() {
	return func() {
		defer func() {
			if v := recover(); v != nil {
				slog.Error("panic in the UI", "where", where, "panic", v, "stack", string(debug.Stack()))
			}
		}()
		f()
	}
}
