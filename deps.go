//go:build tools

package main

// Pins the project's libraries in go.mod while the packages that use them are
// being written, so that parallel work does not fight over go.mod.
import (
	_ "fyne.io/fyne/v2/app"
	_ "github.com/anthropics/anthropic-sdk-go"
	_ "github.com/godbus/dbus/v5"
	_ "github.com/openai/openai-go/v3"
	_ "github.com/tidwall/gjson"
	_ "github.com/zalando/go-keyring"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/term"
)
